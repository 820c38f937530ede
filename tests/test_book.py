"""The static book builds offline, with warnings as errors, from the stored outputs."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import book_notebooks

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("book") / "jupyter_book"
    shutil.copytree(ROOT / "jupyter_book", source, ignore=shutil.ignore_patterns("_build", "chapters"))
    book_notebooks.write_pages(source / "chapters")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(source), "--warningiserror", "--keep-going"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"the book build failed or warned:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return source / "_build" / "html"


def test_index_opens_the_book(built_book):
    assert (built_book / "index.html").exists()
    assert "Deep Reinforcement Learning in JAX" in (built_book / "intro.html").read_text()


@pytest.mark.parametrize("solution", sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_chapter_page_shows_plots_exercises_and_folded_solutions(built_book, solution):
    page = (built_book / "chapters" / f"{solution.stem}.html").read_text()
    notebook = nbformat.read(solution, as_version=4)
    images = sum("image/png" in output.get("data", {}) for cell in notebook.cells for output in cell.get("outputs", []))
    assert page.count("<img") >= images > 0, "every stored plot appears on the page"
    assert "YOUR CODE HERE" in page, "the exercise is shown as the learner sees it"
    assert "Show solution" in page, "the solution is folded behind a click"
    assert f"{solution.stem}.ipynb" in page, "the learner's notebook is offered for download"
    assert list((built_book / "_downloads").rglob(f"{solution.stem}.ipynb")), "the download exists"


def test_book_pages_pair_each_exercise_with_its_folded_solution():
    solution = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))[0]
    page = book_notebooks.book_page(nbformat.read(solution, as_version=4), solution.name)
    folded = [cell for cell in page.cells if "hide-input" in cell.metadata.get("tags", [])]
    assert folded, "a chapter with exercises has folded solutions"
    for cell in folded:
        before = page.cells[page.cells.index(cell) - 1]
        assert "YOUR CODE HERE" in before.source and "BEGIN SOLUTION" not in cell.source


def test_book_pages_load_nothing_from_the_network_and_drop_what_a_reader_cannot_use():
    new_output = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("widgets.interact(draw, epsilon=slider)")
    cell.outputs = [
        new_output("display_data", data={book_notebooks.WIDGET: {"model_id": "1"}, "text/plain": "interactive(...)"}),
        new_output("execute_result", data={"text/plain": "<function __main__.draw(epsilon=0.1)>"}, execution_count=1),
        new_output("display_data", data={"text/html": '<link rel="stylesheet"\nhref="https://cdn.example/fa.css">\n<div>anim</div>'}),
        new_output("display_data", data={"text/plain": "'[####] 20,000/20,000 steps'"}),
        new_output("display_data", data={"text/plain": "Array([1, 2], dtype=int32)"}),
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), cell])
    notebook.metadata["widgets"] = {"state": {}}
    page = book_notebooks.book_page(notebook, "00_x.ipynb")
    assert "widgets" not in page.metadata, "myst-nb would load the widget manager from a CDN"
    outputs = page.cells[-1].outputs
    assert [list(output.data) for output in outputs] == [["text/html"]] * 2 + [["text/plain"]] * 2
    assert "make lab" in outputs[0].data["text/html"] and "widget-in-the-lab" in outputs[0].data["text/html"]
    assert outputs[1].data["text/html"] == "<div>anim</div>"
    assert outputs[2].data["text/plain"] == "[####] 20,000/20,000 steps"
    assert outputs[3].data["text/plain"] == "Array([1, 2], dtype=int32)"
    assert cell.outputs[3].data["text/plain"].startswith("'"), "the solution notebook itself is not changed"
