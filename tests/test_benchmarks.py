"""`make bench`'s pipeline: its quick mode writes a well-formed results file, and the targets are judged
right. Never a timed test: no speed is asserted here."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jax
import numpy as np
import pytest
from jax._src import compilation_cache

from benchmarks import __main__ as bench
from benchmarks import agents, envs, measure, report


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    book = out / "book"
    assert bench.main(["--quick", "--out", str(out), "--book", str(book)]) == 0
    return out, book


def positive(value) -> bool:
    return isinstance(value, float | int) and math.isfinite(value) and value > 0


def test_quick_mode_writes_results_a_table_a_plot_and_the_book_page(quick_run):
    out, book = quick_run
    results = json.loads((out / "results-quick.json").read_text())
    assert results["meta"]["persistent_cache_in_process"] is False
    assert results["quick"] is True and results["repeats"] >= 3
    assert set(results) >= {"meta", "environments", "dqn", "ppo", "targets", "seconds"}
    rows = results["environments"]["rows"]
    names = {row["implementation"] for row in rows}
    assert {"course_lib", "course_lib step_batch", "gymnasium", "gymnasium make_vec"} <= names
    assert ("gymnax" in names) == results["environments"]["gymnax_installed"]
    for row in rows:
        assert positive(row["steps_per_second"]), row
        assert len(row["runs"]) == results["repeats"]
        assert row["steady"] == pytest.approx(float(np.median(row["runs"])))
    ppo_runs = (results["ppo"][key] for key in ("one_seed", "one_seed_quick_compile", "many_seeds"))
    for run in (results["dqn"]["article"]["scan"], *ppo_runs):
        assert positive(run["compile"]) and positive(run["steady"])
        assert run["first_call"] >= run["compile"], "the first call includes compiling"
        assert run["steps_per_second_with_compile"] < run["steps_per_second"]
    assert results["ppo"]["many_seeds"]["seeds"] == 2
    solve = results["dqn"]["time_to_475"]
    assert [row["seed"] for row in solve["seeds"]] == [0, 1] and solve["solved"] <= 2
    assert all(positive(row["run_seconds"]) for row in solve["seeds"])
    (chapter,) = results["chapters"]
    assert chapter["chapter"] == "00_quick" and positive(chapter["first_run"]) and positive(chapter["second_run"])
    assert positive(chapter["first_run_compile"]), "the kernel reported JAX's compile events"
    # The cache's log messages were read: the first run wrote its programs, the second read them back.
    assert positive(chapter["first_run_xla_by_fate"].get("written to the cache")), chapter
    assert positive(chapter["second_run_xla_by_fate"].get("read from the cache")), chapter
    assert "written to the cache" not in chapter["second_run_xla_by_fate"], chapter
    assert positive(chapter["second_run_xla_by_fate"].get("host callback: never cached")), "compiled every run"
    assert results["meta"]["isa"]
    for target in results["targets"]:
        assert isinstance(target["met"], bool) and positive(target["target"])
        assert target["measured"] is None or positive(target["measured"]) or target["unit"] == "seeds"
    table = (out / "results-quick.md").read_text()
    assert "QUICK MODE" in table and "| 1 |" in table and "| 8 |" in table and "DQN article" in table
    assert "PureJaxRL's own code" not in table and "| 00_quick |" in table and "XLA compiling for" in table
    assert (out / "results-quick.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (book / "benchmarks.md").read_text()
    assert page.startswith("# Appendix: benchmarks") and "![Benchmark results](benchmarks.png)" in page
    assert table in page


def test_the_jax_environment_loops_really_take_every_step():
    """The throughput loop checks its total reward (CartPole pays 1 a step): a loop that skipped work
    would be caught, not reported as fast."""
    row = envs.jax_throughput(envs.course_lib_run, num_envs=3, num_steps=50, repeats=3)
    assert row["steps"] == 150

    def broken(num_envs, num_steps):  # does half the steps it claims
        return envs.course_lib_run(num_envs, num_steps // 2)

    with pytest.raises(RuntimeError, match="total reward of 150"):
        envs.jax_throughput(broken, num_envs=3, num_steps=50, repeats=3)


def test_time_to_threshold():
    reach = agents.time_to_threshold(np.array([100.0, 480.0, 300.0, 500.0]), 512, {"compile": 2.0, "steady": 8.0})
    assert reach == {"reached": True, "steps": 1024, "steady_seconds": 4.0, "first_call_seconds": 6.0}
    assert agents.time_to_threshold(np.array([1.0]), 5, {"compile": 1.0, "steady": 1.0})["reached"] is False


def fake_results(course_rate: float, gymnax_rate: float | None, dqn_rate: float, solved: int, median: float | None,
                 compile_s: float, chapter: tuple[float, float]) -> dict:  # fmt: skip
    rows = [{"implementation": "course_lib", "num_envs": 1024, "steps_per_second": course_rate}]
    if gymnax_rate is not None:
        rows.append({"implementation": "gymnax", "num_envs": 1024, "steps_per_second": gymnax_rate})
    seeds = [{"seed": seed} for seed in range(8)]
    return {
        "environments": {"rows": rows},
        "dqn": {
            "article": {"scan": {"steps_per_second": dqn_rate}},
            "time_to_475": {"seeds": seeds, "solved": solved, "median_steady_seconds": median,
                            "median_first_call_seconds": None if median is None else median + 2.5},
        },
        "ppo": {"one_seed": {"compile": compile_s + 0.5}, "one_seed_quick_compile": {"compile": compile_s}},
        "chapters": [{"chapter": "05_dqn_on_cartpole", "first_run": chapter[0], "second_run": chapter[1], "budget": 60.0}],
    }  # fmt: skip


def test_targets_are_met_or_missed_as_the_issue_says():
    met = report.targets(fake_results(2.1e6, 1e6, 25_000, 8, 0.4, 3.0, (50.0, 20.0)))
    assert [t["met"] for t in met] == [True] * 6 + [False] + [True] * 2, met  # default options: 3.5 s
    missed = report.targets(fake_results(1.9e6, 1e6, 12_000, 7, None, 3.5, (70.0, 40.0)))
    assert [t["met"] for t in missed] == [False] * 9, missed
    by_name = {t["name"]: t for t in missed}
    assert by_name["CartPole, 1,024 envs: course_lib (step_batch) / gymnax, same run"]["target"] == 2.0, "2x gymnax from 1,024 envs"
    assert by_name["DQN, article configuration, steady"]["target"] == 20_000
    assert by_name["DQN FAST_CONFIG time to 475, median over seeds, steady (SHORT_RUN_COMPILE, as chapter 05)"]["measured"] is None, "no median: not measured"
    assert missed[-1]["measured"] == pytest.approx(40 / 70)
    # a 1-env row needs only gymnax's speed; an unmeasured comparison is never met and never borrowed
    assert report.gymnax_factor(1) == 1.0 and report.gymnax_factor(64) == 1.0 and report.gymnax_factor(16_384) == 2.0
    assert by_name["PPO compile, QUICK_COMPILE as chapters 06 and 07 use it"]["measured"] == 3.5
    without_gymnax = report.targets(fake_results(3e6, None, 25_000, 8, 0.4, 3.0, (50.0, 20.0)))
    assert without_gymnax[0]["measured"] is None and without_gymnax[0]["met"] is False
    assert "not measured" in report.formatted(None, "x")


def test_the_report_names_the_instruction_set(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_max_isa=AVX")
    assert bench.instruction_set().startswith("AVX (capped by XLA_FLAGS")
    monkeypatch.delenv("XLA_FLAGS")
    assert "capped" not in bench.instruction_set()


def test_bench_refuses_fewer_than_three_repeats(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--repeats", "2"])
    assert "at least 3" in capsys.readouterr().err


def test_the_median_time_to_solve_counts_an_unsolved_seed_as_slower_than_any():
    assert agents.censored_median([1.0, 2.0, 3.0, 4.0, 5.0, None, None, None]) == 4.5  # 5 of 8: the 4th and 5th
    assert agents.censored_median([1.0, 2.0, 3.0, 4.0, None, None, None, None]) is None  # 4 of 8: the 5th is unknown
    assert agents.censored_median([3.0, 1.0, 2.0]) == 2.0


def test_the_committed_results_and_book_page_are_what_the_code_writes_from_results_json():
    """benchmarks/results.md and the book's appendix are generated from benchmarks/results.json: an edit by
    hand to either, or to the page's text in benchmarks/__main__.py without regenerating, shows here."""
    root = Path(__file__).resolve().parent.parent
    results = json.loads((root / "benchmarks" / "results.json").read_text())
    table = report.markdown(results)
    assert (root / "benchmarks" / "results.md").read_text() == table
    assert (root / "jupyter_book" / "benchmarks.md").read_text() == bench.BOOK_PAGE.format(table=table)


def test_timed_compiles_never_read_the_persistent_cache(tmp_path):
    """make bench inherits make test's cache folder (the Makefile exports it); a compile timed with the
    cache on would be a read of what make test compiled."""
    before = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", str(tmp_path))
    compilation_cache.reset_cache()
    try:
        assert measure.persistent_cache_used()
        with measure.without_persistent_cache():
            assert not measure.persistent_cache_used()
        assert measure.persistent_cache_used()  # as it was
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
        compilation_cache.reset_cache()
