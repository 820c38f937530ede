"""`make bench`'s pipeline: its quick mode writes a well-formed results file, and the targets are judged
right. Never a timed test: no speed is asserted here."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from benchmarks import __main__ as bench
from benchmarks import agents, envs, report


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
    assert results["quick"] is True and results["repeats"] >= 3
    assert set(results) >= {"meta", "environments", "dqn", "ppo", "targets", "seconds"}
    rows = results["environments"]["rows"]
    names = {row["implementation"] for row in rows}
    assert {"course_lib", "gymnasium", "gymnasium make_vec"} <= names
    assert ("gymnax" in names) == results["environments"]["gymnax_installed"]
    for row in rows:
        assert positive(row["steps_per_second"]), row
        assert len(row["runs"]) == results["repeats"]
        assert row["steady"] == pytest.approx(float(np.median(row["runs"])))
    for run in (results["dqn"]["article"]["scan"], results["ppo"]["one_seed"], results["ppo"]["many_seeds"]):
        assert positive(run["compile"]) and positive(run["steady"])
        assert run["first_call"] >= run["compile"], "the first call includes compiling"
        assert run["steps_per_second_with_compile"] < run["steps_per_second"]
    assert results["ppo"]["many_seeds"]["seeds"] == 2
    for target in results["targets"]:
        assert isinstance(target["met"], bool) and positive(target["measured"]) and positive(target["target"])
    table = (out / "results-quick.md").read_text()
    assert "QUICK MODE" in table and "| 1 |" in table and "| 8 |" in table and "DQN article" in table
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


def fake_results(course_rate: float, gymnax_rate: float | None, dqn_rate: float, ppo_rate: float, compile_s: float):
    rows = [{"implementation": "course_lib", "num_envs": 64, "steps_per_second": course_rate}]
    if gymnax_rate is not None:
        rows.append({"implementation": "gymnax", "num_envs": 64, "steps_per_second": gymnax_rate})
    return {
        "environments": {"rows": rows},
        "dqn": {"article": {"scan": {"steps_per_second": dqn_rate}}},
        "ppo": {"one_seed": {"steps_per_second": ppo_rate, "compile": compile_s}},
    }


def test_targets_are_met_or_missed_as_the_issue_says():
    met = report.targets(fake_results(3e6, 2e6, 25_000, 150_000, 3.0))
    assert [t["met"] for t in met] == [True, True, True, True]
    missed = report.targets(fake_results(1e6, 2e6, 12_000, 100_000, 4.5))
    assert [t["met"] for t in missed] == [False, False, False, False]
    assert missed[1]["target"] == 20_000 and missed[2]["target"] == pytest.approx(1.2 * 88.8e3)
    assert missed[3]["target"] == 4.0
    without_gymnax = report.targets(fake_results(1.5e6, None, 25_000, 150_000, 3.0))
    assert without_gymnax[0]["target"] == report.GYMNAX_ANCHOR[64] and "anchor" in without_gymnax[0]["name"]


def test_bench_refuses_fewer_than_three_repeats(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--repeats", "2"])
    assert "at least 3" in capsys.readouterr().err
