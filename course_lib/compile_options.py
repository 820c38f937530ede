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


SHORT_RUN_COMPILE: dict[str, int | bool] = {
    **QUICK_COMPILE,
    "xla_cpu_use_fusion_emitters": False,  # XLA's older loop emitters: quicker to compile, slower to run
}
"""For a training run shorter than its own compile, where what a learner waits for (compile plus run)
is mostly compile. XLA's older loop emitters compile the same program faster and run it slower:
DQN ``FAST_CONFIG`` (one seed, to 475) compiled in 1.92-2.00 s against 3.20-3.28 s with
:data:`QUICK_COMPILE` alone and ran in 0.61-0.64 s against 0.46-0.47 s, so 2.55-2.63 s from the call to
the result against 3.68-3.75 s (three alternating processes, 2 shared cores, Intel Xeon, AVX-512).
Not for long runs: PPO's run took 50-75 % longer. A setting of XLA's debug options, pinned with jaxlib;
a newer XLA may drop it."""
