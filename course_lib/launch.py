"""Start one training script as several JAX processes on this machine (chapter 07).

    python -m course_lib.launch --processes 2 my_script.py --seeds 8

On a cluster, a scheduler (Slurm, Kubernetes, a TPU pod) starts one process per host and tells each
where the coordinator is, how many processes there are and which one it is; JAX's distributed
runtime then lets one program use every process's devices. This launcher plays the scheduler on one
machine: it picks a free port on 127.0.0.1, starts ``--processes`` copies of the script with those
three facts in environment variables, prints each one's output with a ``[process i]`` prefix, and
stops them all when one fails or ``--timeout`` seconds pass. Its exit code is the first failure's
(0 if all succeed, 124 on a timeout).

The script calls :func:`initialize` before anything else touches JAX; run alone (without the
launcher) it is a no-op, so the same script runs in one process too::

    from course_lib import launch
    launch.initialize()
    import jax  # jax.devices() now lists every process's devices

On CPU the processes talk through gloo over TCP (``jax_cpu_collectives_implementation = "gloo"``);
GPUs use NCCL and TPUs their own interconnect, and need no such setting.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from course_lib import _validate

__all__ = ["ADDRESS", "NUM_PROCESSES", "PROCESS_ID", "initialize", "launch", "main"]

ADDRESS = "COURSE_COORDINATOR_ADDRESS"  # host:port of process 0's coordinator service
NUM_PROCESSES = "COURSE_NUM_PROCESSES"
PROCESS_ID = "COURSE_PROCESS_ID"


def initialize(timeout_seconds: int = 60) -> int:
    """Join the other processes started by the launcher, and return this process's index (0 when run
    alone, where this does nothing). Call it before any other JAX call: the CPU collectives are set
    when JAX creates its devices. A process that cannot reach the others fails after
    ``timeout_seconds`` instead of waiting for ever."""
    if ADDRESS not in os.environ:
        return 0
    import jax

    try:
        num_processes, process_id = int(os.environ[NUM_PROCESSES]), int(os.environ[PROCESS_ID])
    except (KeyError, ValueError):
        raise RuntimeError(
            f"{ADDRESS} is set, so {NUM_PROCESSES} and {PROCESS_ID} must be whole numbers too; "
            "start the script with python -m course_lib.launch"
        ) from None
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=os.environ[ADDRESS],
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=timeout_seconds,
    )
    return jax.process_index()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stream(process: subprocess.Popen, prefix: str, lock: threading.Lock) -> None:
    for line in process.stdout:  # type: ignore[union-attr]
        with lock:
            sys.stdout.write(f"{prefix}{line}")
            sys.stdout.flush()


def _stop(processes: Sequence[subprocess.Popen], grace_seconds: float = 5.0) -> None:
    """SIGTERM every process still running, then SIGKILL what is left after ``grace_seconds``."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode  # killed by signal N: 128 + N, as a shell says


def launch(
    script: str,
    args: Sequence[str] = (),
    *,
    processes: int = 2,
    devices_per_process: int = 1,
    timeout: float = 600.0,
) -> int:
    """Run ``python script *args`` as ``processes`` JAX processes on 127.0.0.1, each with
    ``devices_per_process`` CPU devices; stream their output; return the exit code (see the module)."""
    _validate.positive_int("processes", processes)
    _validate.positive_int("devices_per_process", devices_per_process)
    _validate.positive("timeout", timeout)
    if not os.path.isfile(script):
        raise FileNotFoundError(f"script: no such file {script!r}")
    address = f"127.0.0.1:{_free_port()}"
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
    flags.append(f"--xla_force_host_platform_device_count={devices_per_process}")
    lock = threading.Lock()
    started: list[subprocess.Popen] = []
    streams: list[threading.Thread] = []
    try:
        for index in range(processes):
            env = dict(os.environ, XLA_FLAGS=" ".join(flags), PYTHONUNBUFFERED="1")
            env.update({ADDRESS: address, NUM_PROCESSES: str(processes), PROCESS_ID: str(index)})
            process = subprocess.Popen(
                [sys.executable, script, *args], env=env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            started.append(process)
            stream = threading.Thread(target=_stream, args=(process, f"[process {index}] ", lock), daemon=True)
            stream.start()
            streams.append(stream)
        deadline = time.monotonic() + timeout
        code = 0
        while any(process.poll() is None for process in started):
            failed = [p for p in started if p.poll() not in (None, 0)]
            if failed:
                code = _exit_code(failed[0].returncode)
                index = started.index(failed[0])
                with lock:
                    print(f"[launch] process {index} exited with code {code}; stopping the others", flush=True)
                break
            if time.monotonic() > deadline:
                code = 124
                with lock:
                    print(f"[launch] timeout after {timeout:g} s; stopping every process", flush=True)
                break
            time.sleep(0.05)
        else:
            code = next((_exit_code(p.returncode) for p in started if p.returncode != 0), 0)
    finally:
        _stop(started)
        for stream in streams:
            stream.join(timeout=5)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.launch",
        description="Run a JAX script as several processes on this machine (127.0.0.1).",
    )
    parser.add_argument("--processes", type=int, default=2, help="how many processes (default 2)")
    parser.add_argument("--devices-per-process", type=int, default=1, help="CPU devices in each (default 1)")
    parser.add_argument("--timeout", type=float, default=600.0, help="stop everything after this many seconds")
    parser.add_argument("script", help="the Python script; it calls course_lib.launch.initialize() first")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed on to the script")
    options = parser.parse_args(argv)
    try:
        return launch(
            options.script, options.args, processes=options.processes,
            devices_per_process=options.devices_per_process, timeout=options.timeout,
        )  # fmt: skip
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
        return 2  # pragma: no cover -- parser.error exits


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally: stop the children too
    sys.exit(main())
