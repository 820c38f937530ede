"""The chapter generator: placeholders, marker errors, and never overwriting a learner's work."""

import json
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest

from tools import make_chapters
from tools.make_chapters import MarkerError, generate, strip_solutions

SOLUTION_SOURCE = '''\
def double(x):
    """Twice x."""
    ### BEGIN SOLUTION: return twice x
    y = 2 * x
    return y
    ### END SOLUTION
'''

SOLUTION_PY = """\
# %% [markdown]
# # 99 · A tiny chapter

# %%
def double(x):
    ### BEGIN SOLUTION: return twice x
    return 2 * x
    ### END SOLUTION


# %%
print("after the exercise")
"""


def test_placeholder_says_what_to_write_and_raises():
    stripped = strip_solutions(SOLUTION_SOURCE)
    assert "2 * x" not in stripped
    assert "    # YOUR CODE HERE: return twice x" in stripped
    assert '    raise NotImplementedError("Exercise not started: replace this line with your code")' in stripped
    namespace = {}
    exec(stripped, namespace)  # the stripped cell still defines the function
    with pytest.raises(NotImplementedError):
        namespace["double"](3)


def test_long_hints_wrap_to_fit_a_code_cell():
    hint = "compute the thing " * 12
    stripped = strip_solutions(f"def f():\n    ### BEGIN SOLUTION: {hint}\n    return 1\n    ### END SOLUTION\n")
    assert all(len(line) <= 88 for line in stripped.splitlines())
    assert stripped.count("# ") >= 3


def test_code_outside_markers_is_kept_verbatim():
    stripped = strip_solutions(SOLUTION_SOURCE)
    assert stripped.splitlines()[:2] == SOLUTION_SOURCE.splitlines()[:2]


@pytest.mark.parametrize(
    "source, complaint",
    [
        ("def f():\n    ### BEGIN SOLUTION: x\n    return 1\n", "never closed"),
        ("def f():\n    return 1\n    ### END SOLUTION\n", "without BEGIN"),
        ("### BEGIN SOLUTION: x\nx = 1\n### END SOLUTION\n", "inside a function body"),
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n", "say what to write"),
        ("def f():\n    ### BEGIN SOLUTION: a\n    ### BEGIN SOLUTION: b\n", "inside another"),
    ],
)
def test_malformed_markers_are_rejected_with_a_reason(source, complaint):
    with pytest.raises(MarkerError, match=complaint):
        strip_solutions(source)


@pytest.fixture
def course(tmp_path: Path):
    solutions, chapters = tmp_path / "solutions", tmp_path / "chapters"
    solutions.mkdir()
    (solutions / "99_tiny.py").write_text(SOLUTION_PY)
    return solutions, chapters


def test_generates_a_chapter_pair_without_answers(course):
    solutions, chapters = course
    report = generate(solutions, chapters)
    assert report.written == ["99_tiny"]
    py_text = (chapters / "99_tiny.py").read_text()
    assert "return 2 * x" not in py_text and "YOUR CODE HERE: return twice x" in py_text
    notebook = nbformat.read(chapters / "99_tiny.ipynb", as_version=4)
    assert [cell.cell_type for cell in notebook.cells] == ["markdown", "code", "code"]
    assert all(cell.outputs == [] for cell in notebook.cells if cell.cell_type == "code")
    manifest = json.loads((chapters / ".generated.json").read_text())
    assert set(manifest["chapters"]) == {"99_tiny"}


def test_second_run_changes_nothing(course):
    solutions, chapters = course
    generate(solutions, chapters)
    before = (chapters / "99_tiny.py").stat().st_mtime_ns
    report = generate(solutions, chapters)
    assert report.unchanged == ["99_tiny"] and not report.written
    assert (chapters / "99_tiny.py").stat().st_mtime_ns == before


def test_edited_chapter_is_skipped_and_named(course, capsys):
    solutions, chapters = course
    generate(solutions, chapters)
    learner_text = (chapters / "99_tiny.py").read_text().replace(
        'raise NotImplementedError("Exercise not started: replace this line with your code")', "return x + x"
    )
    (chapters / "99_tiny.py").write_text(learner_text)
    (solutions / "99_tiny.py").write_text(SOLUTION_PY.replace("after the exercise", "changed by the author"))

    exit_code = make_chapters.main(["--solutions", str(solutions), "--chapters", str(chapters)])

    assert exit_code == 0
    assert "skipped  chapters/99_tiny.py: you have edited it" in capsys.readouterr().out
    assert (chapters / "99_tiny.py").read_text() == learner_text  # the learner's work is intact


def test_force_regenerates_an_edited_chapter_after_backing_it_up(course):
    solutions, chapters = course
    generate(solutions, chapters)
    (chapters / "99_tiny.py").write_text((chapters / "99_tiny.py").read_text() + "\n# %%\nmy_notes = 1\n")
    report = generate(solutions, chapters, force=True)
    assert report.written == ["99_tiny"]
    assert "my_notes" not in (chapters / "99_tiny.py").read_text()
    assert [target.name for _, target in report.backed_up] == ["99_tiny.py", "99_tiny.ipynb"]
    assert "my_notes" in report.backed_up[0][1].read_text()


def test_running_a_chapter_is_not_editing_it(course):
    """Outputs from running a notebook are not the learner's work: the chapter may be regenerated."""
    solutions, chapters = course
    generate(solutions, chapters)
    notebook = nbformat.read(chapters / "99_tiny.ipynb", as_version=4)
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="after the exercise\n")]
    notebook.cells[2].execution_count = 1
    nbformat.write(notebook, chapters / "99_tiny.ipynb")
    (solutions / "99_tiny.py").write_text(SOLUTION_PY.replace("after the exercise", "new text"))
    report = generate(solutions, chapters)
    assert report.written == ["99_tiny"] and not report.skipped


def test_edited_notebook_alone_protects_the_pair(course):
    solutions, chapters = course
    generate(solutions, chapters)
    notebook = nbformat.read(chapters / "99_tiny.ipynb", as_version=4)
    notebook.cells[1].source = "def double(x):\n    return x * 2"
    nbformat.write(notebook, chapters / "99_tiny.ipynb")
    (solutions / "99_tiny.py").write_text(SOLUTION_PY.replace("after the exercise", "new text"))
    report = generate(solutions, chapters)
    assert report.skipped == ["99_tiny.ipynb"] and not report.written
    assert "x * 2" in nbformat.read(chapters / "99_tiny.ipynb", as_version=4).cells[1].source


def test_check_mode_detects_a_solution_edited_without_regenerating(course):
    solutions, chapters = course
    generate(solutions, chapters)
    assert generate(solutions, chapters, check=True).stale == []
    (solutions / "99_tiny.py").write_text(SOLUTION_PY.replace("after the exercise", "edited solution"))
    assert generate(solutions, chapters, check=True).stale == ["99_tiny"]
    assert make_chapters.main(["--check", "--solutions", str(solutions), "--chapters", str(chapters)]) == 1


def test_check_mode_names_a_hand_edited_chapter_and_fails_on_it_only_when_strict(course):
    solutions, chapters = course
    generate(solutions, chapters)
    text = (chapters / "99_tiny.py").read_text()
    (chapters / "99_tiny.py").write_text(text.replace("after the exercise", "edited by hand"))
    report = generate(solutions, chapters, check=True)
    assert report.stale == [] and [chapter.stem for chapter in report.learners] == ["99_tiny"]
    arguments = ["--check", "--solutions", str(solutions), "--chapters", str(chapters)]
    assert make_chapters.main([*arguments, "--no-strict"]) == 0
    assert make_chapters.main([*arguments, "--strict"]) == 1


def test_broken_markers_exit_with_a_message(course, capsys):
    solutions, chapters = course
    (solutions / "99_tiny.py").write_text(SOLUTION_PY.replace("    ### END SOLUTION\n", ""))
    assert make_chapters.main(["--solutions", str(solutions), "--chapters", str(chapters)]) == 2
    assert "never closed" in capsys.readouterr().err
