"""`make progress` on a clone-like folder of chapters: two exercises answered correctly, one wrongly, the
rest as the course generates them. The table must say so, row by row, and no file may change."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

from course_lib import learner_progress
from tools.book_notebooks import without_markers
from tools.make_chapters import PLACEHOLDER_MESSAGE, has_solution

ROOT = Path(__file__).resolve().parent.parent
WRONG_PROBABILITIES = '''def td_error_probabilities(td_errors, alpha, epsilon):
    scaled = jnp.abs(td_errors) ** alpha  # epsilon forgotten
    return scaled / scaled.sum()
'''


def solution_cell(stem: str, name: str) -> str:
    notebook = jupytext.read(ROOT / "solutions" / f"{stem}.py")
    source = next(c.source for c in notebook.cells if has_solution(c.source) and f"def {name}(" in c.source)
    return without_markers(source)


def answer(path: Path, name: str, source: str) -> None:
    """Replace the placeholder of exercise ``name`` in a chapter file, as a learner's save would."""
    notebook = jupytext.read(path)
    cell = next(c for c in notebook.cells if c.cell_type == "code" and f"def {name}(" in c.source)
    cell.source = source
    if path.suffix == ".ipynb":
        nbformat.write(notebook, path)
    else:
        jupytext.write(notebook, path, fmt="py:percent")


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        str(path.relative_to(folder)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chapters/ as a learner has it after a while: 0.1 right (saved from JupyterLab, .py and .ipynb),
    1.2 right in the .ipynb only (Colab; the .py is older), 3.3 wrong in the .py only (an editor)."""
    chapters = tmp_path_factory.mktemp("clone") / "chapters"
    subprocess.run([sys.executable, "-m", "tools.make_chapters", "--fresh", str(chapters)], check=True, cwd=ROOT)
    for suffix in (".py", ".ipynb"):
        answer(chapters / f"00_jax_for_rl{suffix}", "sample_average_update",
               solution_cell("00_jax_for_rl", "sample_average_update"))  # fmt: skip
    # Saved together, as JupyterLab saves a pair: the same time on both. Written one after the other, the
    # two could straddle a second on a busy machine, and the .ipynb would look a second newer.
    saved = (chapters / "00_jax_for_rl.py").stat().st_mtime
    for suffix in (".py", ".ipynb"):
        os.utime(chapters / f"00_jax_for_rl{suffix}", (saved, saved))
    time.sleep(1.1)  # whole seconds decide which copy is newer
    answer(chapters / "01_q_tables.ipynb", "q_learning_update", solution_cell("01_q_tables", "q_learning_update"))
    answer(chapters / "03_replay_buffers.py", "td_error_probabilities", WRONG_PROBABILITIES)
    return chapters


def test_the_table_of_a_clone_with_two_right_one_wrong(clone: Path, tmp_path: Path) -> None:
    before = snapshot(clone)
    start = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-m", "course_lib.learner_progress", str(clone), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    print(finished.stdout, f"measured: {time.perf_counter() - start:.1f} s (timed by make bench, not here)")
    rows = {
        line.split()[1]: line
        for line in finished.stdout.splitlines()
        if line[:2].isdigit() and len(line.split()) > 2 and line.split()[1][0].isdigit()
    }
    assert len(rows) == 16, finished.stdout
    assert "✅ correct" in rows["0.1"] and "✅ correct" in rows["1.2"]
    assert "❌ not yet" in rows["3.3"]
    assert finished.stdout.count("⏳ not started") == 13
    hint = finished.stdout.split(rows["3.3"])[1].split("\n03_")[0]
    assert "epsilon" in hint, "the wrong answer's row carries the check's hint"
    assert "Total: 2 of 16 exercises correct, 1 not yet, 13 not started." in finished.stdout
    assert snapshot(clone) == before, "make progress changed a learner's file"


def test_the_newer_copy_is_the_learners(clone: Path) -> None:
    assert learner_progress.latest_copy(clone, "01_q_tables").suffix == ".ipynb"
    assert learner_progress.latest_copy(clone, "03_replay_buffers").suffix == ".py"
    assert learner_progress.latest_copy(clone, "00_jax_for_rl").suffix == ".py"  # saved together: a tie


def test_only_the_cells_a_check_needs_run() -> None:
    sources = learner_progress.code_cells(ROOT / "solutions" / "02_deep_q_networks.py")
    cells, exercises = learner_progress.chapter_plan(sources, "ch02")
    first_lines = {e.label: [sources[i].splitlines()[0] for i in e.needs] for e in exercises}
    assert first_lines["2.1 select_action"][0].startswith("import")  # the imports
    assert any("def forward" in line for line in first_lines["2.1 select_action"])  # q_network, for the check
    ran = sorted({i for e in exercises for i in (*e.needs, e.check_cell)})
    assert [sources[i].splitlines()[0] for i in ran] == [
        "import functools",  # the imports
        "cartpole = CartPole()",  # obs, which the network's init needs
        "def forward(obs):",  # q_network, which the checks take
        "def select_action(key, params, obs, epsilon):",
        "select_action = ch02.check_select_action(select_action, q_network)",
        "def dqn_loss(online_params, target_params, transition, gamma):",
        "dqn_loss = ch02.check_dqn_loss(dqn_loss, q_network)",
        "def polyak_update(online_params, target_params, tau):",
        "polyak_update = ch02.check_polyak_update(polyak_update, q_network)",
    ]  # and not the 200 updates on a batch, nor the training runs


def test_a_placeholder_is_not_started_without_running() -> None:
    cell = learner_progress.parse_cells(
        ['def f(x):\n    y = x + 1\n    raise NotImplementedError("%s")\n' % learner_progress.PLACEHOLDER]
    )[0]
    assert learner_progress.untouched(cell, "f")
    answered = learner_progress.parse_cells(
        ['def f(x):\n    return x\n    raise NotImplementedError("%s")\n' % learner_progress.PLACEHOLDER]
    )[0]
    assert not learner_progress.untouched(answered, "f")
    assert learner_progress.PLACEHOLDER == PLACEHOLDER_MESSAGE  # the text tools/make_chapters writes


def test_errors_and_missing_checks_get_a_row(tmp_path: Path) -> None:
    """A cell that does not parse, a check cell deleted, and an answer that raises: each gets its row."""
    path = tmp_path / "00_jax_for_rl.py"
    subprocess.run([sys.executable, "-m", "tools.make_chapters", "--fresh", str(tmp_path)], check=True, cwd=ROOT)
    notebook = jupytext.read(path)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    first = next(c for c in code if "def sample_average_update(" in c.source)
    first.source = "def sample_average_update(estimates, counts, action, reward)\n    return estimates, counts\n"
    second = next(c for c in code if "def discounted_returns(" in c.source)
    notebook.cells = [c for c in notebook.cells if "check_discounted_returns" not in c.source]
    jupytext.write(notebook, path, fmt="py:percent")
    rows = learner_progress.check_chapter(path, timeout=120)
    by_name = {row.exercise: row for row in rows}
    assert by_name["0.1 sample_average_update"].status == "not yet"
    assert "SyntaxError" in by_name["0.1 sample_average_update"].detail
    assert by_name["0.2 discounted_returns"].status == "not checked"
    assert "no check cell" in by_name["0.2 discounted_returns"].detail
    assert second.source  # the answer cell itself stayed


def test_run_cells_reports_what_each_check_printed(tmp_path: Path) -> None:
    """The worker's loop, in this process: output of check cells, and errors of the cells that raised."""
    cells = ["x = 1", "print('✅ Exercise 9.9 (f): correct. Fine.')", "raise ValueError('bad\\nmore')", "print(x)"]
    results = tmp_path / "results.jsonl"
    with open(results, "w", encoding="utf-8") as out:
        learner_progress.run_cells(cells, [0, 1, 2, 3], [1, 3], out)
    lines = [learner_progress.json.loads(line) for line in results.read_text().splitlines()]
    assert [line["cell"] for line in lines] == [1, 2, 3]
    assert learner_progress.read_verdict(lines[0]["output"]) == ("Exercise 9.9 (f)", "correct", "")
    assert lines[1]["error"] == "ValueError: bad"
    assert lines[2]["output"].strip() == "1"
    # The shell it made is gone: a progress bar later in this process must not think it is in a notebook.
    from IPython import get_ipython

    assert get_ipython() is None


def test_a_verdict_is_reused_while_its_code_is_unchanged(clone: Path, tmp_path: Path) -> None:
    cache = learner_progress.VerdictCache(tmp_path)
    sources = learner_progress.code_cells(clone / "03_replay_buffers.py")
    cells, exercises = learner_progress.chapter_plan(sources, "ch03")
    wrong = next(e for e in exercises if e.name == "td_error_probabilities")
    cache.put(cache.key(cells, wrong), learner_progress.Row("03_replay_buffers", wrong.label, "correct"))
    cache.save()
    rows = learner_progress.check_chapter(clone / "03_replay_buffers.py", cache=learner_progress.VerdictCache(tmp_path))
    assert [row.status for row in rows] == ["not started", "not started", "correct"]  # from the cache
    cells[wrong.answer_cell].python += "\n# an edit"
    assert cache.key(cells, wrong) not in cache.entries


def test_untouched_chapters_are_read_without_running_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh clone: every exercise not started, decided by reading alone (no subprocess runs)."""
    subprocess.run([sys.executable, "-m", "tools.make_chapters", "--fresh", str(tmp_path)], check=True, cwd=ROOT)

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("an untouched chapter started a subprocess")

    monkeypatch.setattr(learner_progress, "_run", no_run)
    assert learner_progress.main([str(tmp_path), "--cache", str(tmp_path / "cache")]) == 0
    printed = capsys.readouterr().out
    assert "Total: 0 of 16 exercises correct, 0 not yet, 16 not started." in printed
    assert learner_progress.main([str(tmp_path / "missing")]) == 2


def test_chapters_are_parsed_in_one_thread_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ast` is not thread-safe in CPython 3.11 (python/cpython#106905): parsing two chapters at once
    failed CI with "AST constructor recursion depth mismatch". Every parse must happen in the caller's
    thread; only the subprocesses run side by side."""
    subprocess.run([sys.executable, "-m", "tools.make_chapters", "--fresh", str(tmp_path)], check=True, cwd=ROOT)
    threads = set()
    real_parse = learner_progress.ast.parse

    def recording_parse(*args: object, **kwargs: object) -> object:
        threads.add(threading.get_ident())
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(learner_progress.ast, "parse", recording_parse)
    rows, files = learner_progress.progress(tmp_path, jobs=2)
    assert len(files) >= 8 and len(rows) == 16
    assert threads == {threading.get_ident()}
