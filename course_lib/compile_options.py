"""Compiler options that shorten the wait before a compiled training run starts.

XLA compiles in two stages: its own optimisations of the whole program, then LLVM turning each piece
into machine code. For the course's training programs (small matrices, many small operations, one
long ``lax.scan``) LLVM's most expensive passes buy nothing measurable at run time, yet they take about
a third of the compile. Pass these to ``jax.jit``::

    train = jax.jit(dqn.make_train(dqn.FAST_CONFIG), compiler_options=QUICK_COMPILE)

Measured on 2 shared cores (Intel Xeon, AVX-512), side by side in one process, DQN ``FAST_CONFIG``:
compile 6.6-6.9 s with XLA's defaults against 3.0-4.6 s with these, run 1.04-1.08 s against 0.99-1.02 s.
Other code runs other floating-point operations, so a run's numbers differ in the last bits from the
default's, and a training run then takes another path, as on another CPU.
"""

from __future__ import annotations

QUICK_COMPILE: dict[str, int | bool] = {
    "xla_backend_optimization_level": 1,  # LLVM's -O1 instead of -O2 for the generated code
    "xla_llvm_disable_expensive_passes": True,
}


QUICK_XLA_FLAGS: str = " ".join(f"--{name}={str(value).lower()}" for name, value in QUICK_COMPILE.items())
"""The same settings as ``XLA_FLAGS``, for a process that compiles everything with them (``make progress``'s
workers, chapter 07's child processes). Put them first: a flag set again later in ``XLA_FLAGS`` wins."""
