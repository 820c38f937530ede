"""The course's own files agree: chapters/ is generated from solutions/, and every .py matches its .ipynb."""

import functools
from pathlib import Path

import jupytext
import nbformat
import pytest

from tools.make_chapters import generate, has_solution, running_in_ci

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.py"))
PAIRS = [path for folder in ("solutions", "chapters") for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.py"))]


def cells(notebook):
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_there_is_at_least_one_chapter():
    assert SOLUTIONS, "solutions/ holds no chapter"


@functools.cache
def learners_chapters() -> frozenset[str]:
    """Chapters holding a learner's edits: theirs to keep, not the course's to test (except in CI)."""
    if running_in_ci():
        return frozenset()
    return frozenset(chapter.stem for chapter in generate(ROOT / "solutions", ROOT / "chapters", check=True).learners)


def test_chapters_are_up_to_date_with_solutions():
    report = generate(ROOT / "solutions", ROOT / "chapters", check=True)
    assert report.stale == [], f"chapters/ is out of date for {report.stale}: run `make chapters`"
    if running_in_ci():
        differing = [chapter.stem for chapter in report.learners]
        assert differing == [], f"chapters/ differs from what solutions/ generate: {differing}"


@pytest.mark.parametrize("py_path", PAIRS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_py_and_ipynb_have_the_same_cells(py_path):
    if py_path.parent.name == "chapters" and py_path.stem in learners_chapters():
        pytest.skip(f"you have edited chapters/{py_path.stem}: your work is not the course's to test")
    ipynb_path = py_path.with_suffix(".ipynb")
    assert ipynb_path.exists(), f"{ipynb_path.name} is missing: run `make chapters` or `make execute`"
    assert cells(jupytext.read(py_path)) == cells(nbformat.read(ipynb_path, as_version=4)), (
        f"{py_path} and its notebook disagree: re-execute the solution (make execute) or regenerate (make chapters)"
    )


@pytest.mark.parametrize("py_path", SOLUTIONS, ids=lambda path: path.name)
def test_solution_notebooks_store_the_outputs_of_a_full_run(py_path):
    notebook = nbformat.read(py_path.with_suffix(".ipynb"), as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), "run the whole notebook top to bottom: make execute"
    assert not any(output.output_type == "error" for cell in code for output in cell.outputs)


@pytest.mark.parametrize("py_path", SOLUTIONS, ids=lambda path: path.name)
def test_every_exercise_is_followed_by_its_check(py_path):
    notebook = jupytext.read(py_path)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and has_solution(cell.source):
            following = notebook.cells[index + 1]
            assert ".check_" in following.source, f"cell {index} of {py_path.name}: put its check in the next cell"
