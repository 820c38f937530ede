"""course_lib.launch: two JAX processes on 127.0.0.1 train seeds split across them and gather the
results; the launcher prefixes output, passes a failure's exit code on, stops the others, and stops
everything at its timeout. Every run has a time limit of its own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import numpy as np

from course_lib import launch, returns

TRAIN = """
def train(key):  # a key-dependent gamma: a traced input check, as in PPO
    gamma = 0.5 + 0.5 * jax.random.uniform(jax.random.fold_in(key, 1))
    return returns.discounted_returns(jax.random.uniform(key, (16,)), gamma)
"""


def train(key: jax.Array) -> jax.Array:
    gamma = 0.5 + 0.5 * jax.random.uniform(jax.random.fold_in(key, 1))
    return returns.discounted_returns(jax.random.uniform(key, (16,)), gamma)


def run_launcher(tmp_path: Path, script: str, *options: str, timeout: float = 60) -> tuple[int, str, float]:
    path = tmp_path / "script.py"
    path.write_text(script)
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.launch", *options, str(path)], capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def test_two_processes_train_their_seeds_and_gather_them(tmp_path: Path) -> None:
    code, out, _ = run_launcher(
        tmp_path,
        textwrap.dedent("""
        from course_lib import launch
        index = launch.initialize()
        import json
        import jax, numpy as np
        from course_lib import devices, returns
        """)
        + TRAIN
        + textwrap.dedent("""
        keys = jax.random.split(jax.random.key(0), 4)
        results = devices.run_sharded(train, keys)
        local = [d.id for d in jax.local_devices()]
        print("RESULT", json.dumps({"index": index, "processes": jax.process_count(), "devices": jax.device_count(),
                                    "local": local, "results": np.asarray(results).tolist()}), flush=True)
        """),
        "--processes", "2", "--timeout", "50",
    )  # fmt: skip
    assert code == 0, out
    reports = {}
    for line in out.splitlines():
        if "RESULT " in line:
            prefix, payload = line.split("RESULT ", 1)
            report = json.loads(payload)
            assert prefix == f"[process {report['index']}] "
            reports[report["index"]] = report
    assert sorted(reports) == [0, 1], out
    assert reports[0]["local"] != reports[1]["local"]  # each process owns its own device
    expected = np.asarray(jax.vmap(train)(jax.random.split(jax.random.key(0), 4)))
    for report in reports.values():
        assert report["processes"] == 2 and report["devices"] == 2
        np.testing.assert_allclose(report["results"], expected, rtol=1e-6)  # all 4 seeds, in order, everywhere


def test_a_failing_process_stops_the_others_and_its_code_is_returned(tmp_path: Path) -> None:
    code, out, seconds = run_launcher(
        tmp_path,
        textwrap.dedent("""
        import os, sys, time
        if os.environ["COURSE_PROCESS_ID"] == "1":
            print("giving up", flush=True)
            sys.exit(3)
        time.sleep(120)
        """),
        "--processes", "2", "--timeout", "100",
    )  # fmt: skip
    assert code == 3, out
    assert "[process 1] giving up" in out
    assert "process 1 exited with code 3; stopping the others" in out
    assert seconds < 30  # process 0 was stopped, not waited for


def test_timeout_stops_every_process(tmp_path: Path) -> None:
    code, out, seconds = run_launcher(tmp_path, "import time\ntime.sleep(120)\n", "--processes", "2", "--timeout", "2")
    assert code == 124, out
    assert "timeout after 2 s" in out
    assert seconds < 30


def test_environment_and_bad_arguments(tmp_path: Path, monkeypatch) -> None:
    script = textwrap.dedent("""
    import os
    print(os.environ["COURSE_PROCESS_ID"], os.environ["COURSE_NUM_PROCESSES"],
          os.environ["COURSE_COORDINATOR_ADDRESS"].startswith("127.0.0.1:"), os.environ["XLA_FLAGS"])
    """)
    code, out, _ = run_launcher(tmp_path, script, "--processes", "3", "--devices-per-process", "2")
    assert code == 0, out
    for index in range(3):
        assert f"[process {index}] {index} 3 True --xla_force_host_platform_device_count=2" in out
    code, out, _ = run_launcher(tmp_path, "pass\n", "--processes", "0")
    assert code == 2 and "processes must be a whole number >= 1" in out
    monkeypatch.delenv(launch.ADDRESS, raising=False)
    assert launch.initialize() == 0  # alone, without the launcher: nothing to join
