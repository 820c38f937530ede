"""Prepare the book's pages from the executed solution notebooks (run by ``make book``).

The book renders stored outputs and never executes anything. For every ``solutions/NN_name.ipynb``
this writes ``jupyter_book/chapters/NN_name.ipynb`` (git-ignored) in which each exercise cell appears
twice: first as the learner sees it (the placeholder from ``chapters/``), then the solution, folded
behind a "Show solution" click. Each page also links the learner's notebook for download, generated
afresh from the solution (never copied from chapters/, where a learner's own edits live).
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
from pathlib import Path

import nbformat

from tools.make_chapters import BEGIN, END, has_solution, strip_solutions, write_fresh

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "jupyter_book" / "chapters"
WIDGET = "application/vnd.jupyter.widget-view+json"
CDN_STYLESHEET = re.compile(r'<link rel="stylesheet"[^>]*href="https?://[^"]*"[^>]*>\n?')
WIDGET_NOTE = (
    '<p class="widget-in-the-lab">In the notebook, this cell draws sliders for its knobs; each change '
    "retrains the agents and redraws the figure. The book cannot run code, so it shows the figure for the "
    "default knobs, above. Try the sliders in <code>make lab</code> or in the notebook you download.</p>"
)


def without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not (BEGIN.match(line) or END.match(line)))


def shown_string(text: str) -> str | None:
    """The string whose repr ``display(a_string)`` stored, or None if ``text`` is not one."""
    if text[:1] not in ("'", '"'):
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def offline_outputs(outputs: list) -> list:
    """The outputs as a page without a kernel or a network can show them."""
    shown = []
    for output in outputs:
        data = output.get("data", {})
        if WIDGET in data:
            shown.append(nbformat.v4.new_output("display_data", data={"text/html": WIDGET_NOTE}))
        elif output.output_type == "execute_result" and data.get("text/plain", "").startswith("<function "):
            continue  # interact()'s return value, not something a reader should see
        elif output.output_type == "display_data" and set(data) == {"text/plain"} and shown_string(data["text/plain"]):
            data["text/plain"] = shown_string(data["text/plain"])  # a progress bar, without its quotes
            shown.append(output)
        else:
            if "text/html" in data:
                data["text/html"] = CDN_STYLESHEET.sub("", data["text/html"])
            shown.append(output)
    return shown


def book_page(solution: nbformat.NotebookNode, download_name: str) -> nbformat.NotebookNode:
    page = copy.deepcopy(solution)
    page.metadata.pop("widgets", None)  # without it, myst-nb loads the widget manager from a CDN
    cells = []
    for cell in page.cells:
        if cell.cell_type == "code":
            cell.outputs = offline_outputs(cell.outputs)
        if cell.cell_type == "code" and has_solution(cell.source):
            exercise = nbformat.v4.new_code_cell(strip_solutions(cell.source))
            answer = copy.deepcopy(cell)
            answer.source = without_markers(cell.source)
            answer.metadata.setdefault("tags", []).append("hide-input")
            answer.metadata["mystnb"] = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}
            cells += [exercise, answer]
        else:
            cells.append(cell)
    title_index = next(i for i, cell in enumerate(cells) if cell.cell_type == "markdown")
    note = nbformat.v4.new_markdown_cell(
        "```{admonition} Run it yourself\n"
        f"Download the notebook with the exercises left for you: {{download}}`{download_name} "
        f"<downloads/{download_name}>`, or clone the course and run `make lab`.\n```"
    )
    cells.insert(title_index + 1, note)
    page.cells = cells
    return page


def write_pages(pages: Path = PAGES) -> None:
    """Write one book page per executed solution notebook into ``pages`` (replacing what was there)."""
    if pages.exists():
        shutil.rmtree(pages)
    (pages / "downloads").mkdir(parents=True)
    # The downloads are a fresh generation from solutions/, never the files in chapters/, which may
    # hold a learner's own work.
    write_fresh(ROOT / "solutions", pages / "downloads", suffixes=(".ipynb",))
    for solution_path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        solution = nbformat.read(solution_path, as_version=4)
        nbformat.write(book_page(solution, solution_path.name), pages / solution_path.name)
        print(f"book page: {pages / solution_path.name}")


if __name__ == "__main__":
    write_pages()
