"""Launch buttons and the chapters' install cell (issue 18, item 4).

The book's Binder and Colab buttons come from one key, repository.url in jupyter_book/_config.yml, and
open the learner's notebook in chapters/. Each chapter's first code cell installs course_lib from that
repository when it is missing (Colab), and does nothing where the course is installed: in the lab, in
nbval and in CI, which all run the course's own .venv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
import yaml
from jupyter_book.config import get_final_config

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.py"))
BOOK_CONFIG = yaml.safe_load((ROOT / "jupyter_book" / "_config.yml").read_text())
URL = BOOK_CONFIG["repository"]["url"]

# Runs one cell in an IPython shell, as a kernel would, and prints the line magics it called.
RUN_CELL = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
called = []
shell.run_line_magic = lambda name, line, *rest: called.append([name, line])
if sys.argv[2] == "hide":
    sys.modules["course_lib"] = None  # as in a Python without course_lib: import raises ModuleNotFoundError
result = shell.run_cell(open(sys.argv[1]).read())
print(json.dumps({"called": called, "ok": result.success}))
"""


def first_code_cell(path: Path):
    return next(cell for cell in jupytext.read(path).cells if cell.cell_type == "code")


def run_install_cell(tmp_path: Path, hide: bool) -> tuple[dict, str]:
    source = tmp_path / "cell.py"
    source.write_text(first_code_cell(SOLUTIONS[0]).source)
    finished = subprocess.run(
        [sys.executable, "-c", RUN_CELL, str(source), "hide" if hide else "keep"],
        capture_output=True,
        text=True,
        check=True,
    )
    *printed, last = finished.stdout.strip().splitlines()
    return json.loads(last), "\n".join(printed) + finished.stderr


def test_the_launch_buttons_open_the_learners_notebook_from_one_url() -> None:
    final, _ = get_final_config(
        user_yaml=ROOT / "jupyter_book" / "_config.yml",
        cli_config={"latex_individualpages": False},
        sourcedir=ROOT / "jupyter_book",
    )
    options = final["html_theme_options"]
    assert options["repository_url"] == URL and URL.startswith("https://github.com/")
    assert options["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert options["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    # The theme links {repository}/blob/{branch}/{path_to_docs}{page}.ipynb: the committed learner notebook.
    assert options["path_to_docs"] == ""
    toc = yaml.safe_load((ROOT / "jupyter_book" / "_toc.yml").read_text())
    pages = [entry["file"] for part in toc["parts"] for entry in part["chapters"] if "chapters/" in entry["file"]]
    assert pages and all((ROOT / f"{page}.ipynb").exists() for page in pages)
    assert (ROOT / "environment.yml").exists(), "Binder builds the environment from environment.yml"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.stem)
def test_every_chapter_starts_with_the_install_cell(solution: Path) -> None:
    cell = first_code_cell(solution)
    assert cell.source == first_code_cell(SOLUTIONS[0]).source, "one install cell, the same in every chapter"
    assert f"git+{URL}" in cell.source, "the cell installs from repository.url in _config.yml"
    assert "remove-cell" in cell.metadata.get("tags", []), "the book's pages do not show it"
    chapter = jupytext.read(ROOT / "chapters" / solution.name)
    assert next(c for c in chapter.cells if c.cell_type == "code").source == cell.source
    stored = json.loads(solution.with_suffix(".ipynb").read_text())
    stored_cell = next(c for c in stored["cells"] if c["cell_type"] == "code")
    assert "".join(stored_cell["source"]) == cell.source and stored_cell["outputs"] == []


def test_the_install_cell_does_nothing_where_the_course_is_installed(tmp_path: Path) -> None:
    """The lab, nbval and CI all run this .venv, where course_lib is installed: no pip, no output."""
    outcome, printed = run_install_cell(tmp_path, hide=False)
    assert outcome == {"called": [], "ok": True}
    assert printed.strip() == ""


def test_the_install_cell_installs_from_the_repository_where_course_lib_is_missing(tmp_path: Path) -> None:
    outcome, _ = run_install_cell(tmp_path, hide=True)
    assert outcome["ok"]
    assert outcome["called"] == [["pip", f'install --quiet "course_lib @ git+{URL}"']]
