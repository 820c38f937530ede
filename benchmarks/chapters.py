"""Chapter run times as a learner meets them: top to bottom in a fresh kernel, how much of it is
compilation, and the same chapter again once JAX's persistent compilation cache holds its programs.

Each chapter runs twice in one sitting, each time in a new kernel: first with an empty cache folder
(what a learner waits for the first time), then with the folder the first run filled (a re-run, a
restarted kernel, or ``make test``'s second nbval pass). The kernel gets the cache settings the
Makefile exports. A first cell, added here and not in the chapter, sums JAX's own compile-time events
(tracing, lowering to MLIR, XLA's backend compile) so "compile" is what JAX reports, not a guess.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = {"default": 60.0, "06_ppo_with_gae": 90.0, "07_beyond_one_run": 90.0}
MIN_COMPILE_SECONDS = "0"  # as the Makefile: every program without a host callback is cached
COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)
MARK = "BENCH-COMPILE-SECONDS"
# What became of each XLA compile, read from the messages jax._src.compiler logs at DEBUG (jax 0.10.2,
# compile_or_get_cached and _cache_write), in the order they come: the last one before the compile
# event names the program's fate.
HELD_BY_CALLBACKS = "host callback: never cached"
CACHE_FATES = (
    ("PERSISTENT COMPILATION CACHE MISS", "written to the cache"),
    ("because it uses host callbacks", HELD_BY_CALLBACKS),
    ("because it took <", "too quick to cache"),
    ("Persistent compilation cache hit", "read from the cache"),
)

LISTEN = f"""\
import collections as _bench_collections, logging as _bench_logging, jax as _bench_jax
_bench_seconds = _bench_collections.Counter()
_bench_fate = [None]
def _bench_listen(event, duration, **_):
    if event in {COMPILE_EVENTS!r}:
        _bench_seconds[event] += duration
    if event == {COMPILE_EVENTS[-1]!r}:
        _bench_seconds["xla:" + (_bench_fate[0] or "cache off")] += duration
        _bench_fate[0] = None
_bench_jax.monitoring.register_event_duration_secs_listener(_bench_listen)
class _BenchFate(_bench_logging.Handler):
    def emit(self, record):
        _bench_fate[0] = _bench_fate_of(record.getMessage()) or _bench_fate[0]
def _bench_fate_of(message):
    for text, fate in {CACHE_FATES!r}:
        if text in message:
            return fate
_bench_log = _bench_logging.getLogger("jax._src.compiler")
_bench_log.addHandler(_BenchFate(_bench_logging.DEBUG))
_bench_log.setLevel(_bench_logging.DEBUG)
_bench_log.propagate = False
"""
REPORT = f"import json as _bench_json\nprint({MARK!r}, _bench_json.dumps(dict(_bench_seconds)))\n"


def budget(stem: str) -> float:
    return BUDGET_SECONDS.get(stem, BUDGET_SECONDS["default"])


def run_once(path: Path, cache_dir: Path | None, timeout: float = 600) -> dict[str, float]:
    """Execute ``path`` top to bottom in a fresh kernel; wall seconds and JAX's compile seconds.
    ``cache_dir`` None runs with the persistent cache off."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [nbformat.v4.new_code_cell(LISTEN), *notebook.cells, nbformat.v4.new_code_cell(REPORT)]
    saved = dict(os.environ)
    os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
    if cache_dir is not None:
        os.environ["JAX_COMPILATION_CACHE_DIR"] = str(cache_dir)
        os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = MIN_COMPILE_SECONDS
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ["PYTHONHASHSEED"] = "0"
    try:
        client = NotebookClient(
            notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        start = time.perf_counter()
        client.execute()
        wall = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    events = json.loads(printed.split(MARK, 1)[1]) if MARK in printed else {}
    compile_seconds = sum(value for name, value in events.items() if name in COMPILE_EVENTS)
    xla = {name.removeprefix("xla:"): value for name, value in events.items() if name.startswith("xla:")}
    return {"seconds": wall, "compile": float(compile_seconds), "xla_compile_by_fate": xla}


def run(paths: list[Path]) -> list[dict[str, Any]]:
    """Each chapter cold (empty cache) then warm (the cache the cold run filled), side by side."""
    rows = []
    for path in paths:
        print(f"  {path.stem} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-jax-cache-") as folder:
            cold = run_once(path, Path(folder))
            warm = run_once(path, Path(folder))
        rows.append({
            "chapter": path.stem,
            "first_run": cold["seconds"],
            "first_run_compile": cold["compile"],
            "first_run_xla_by_fate": cold["xla_compile_by_fate"],
            "second_run": warm["seconds"],
            "second_run_compile": warm["compile"],
            "second_run_xla_by_fate": warm["xla_compile_by_fate"],
            "budget": budget(path.stem),
        })  # fmt: skip
    return rows


def chapter_paths(quick: bool, scratch: Path) -> list[Path]:
    """The solution notebooks; in quick mode a three-cell notebook instead, with one program the cache
    can hold and one it cannot (the pipeline is what quick mode proves, and a real chapter takes a minute)."""
    if not quick:
        return sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import jax, jax.numpy as jnp"),
        nbformat.v4.new_code_cell("jax.jit(lambda x: jnp.sin(x) @ jnp.cos(x).T)(jnp.ones((64, 64))).block_until_ready()"),
        nbformat.v4.new_code_cell("jax.jit(lambda x: jax.debug.callback(print, x) or x + 1)(1.0).block_until_ready()"),
    ]
    path = scratch / "00_quick.ipynb"
    nbformat.write(notebook, path)
    return [path]
