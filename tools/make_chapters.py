"""Generate the learner notebooks in chapters/ from the source of truth in solutions/.

Each exercise answer in a solution sits between two marker lines inside a function body:

    ### BEGIN SOLUTION: what the learner should write, in one sentence
        ...the answer...
    ### END SOLUTION

In the generated chapter the answer becomes a placeholder that says what to write and raises
NotImplementedError, which the exercise checks report as "not started".

A learner's work is never lost: a manifest (chapters/.generated.json) records a fingerprint of the
cells of every file this script wrote. If a chapter on disk no longer matches that fingerprint, the
learner has edited it, and the script skips it (and says so) unless given --force.

Usage:
    python -m tools.make_chapters            # write chapters/, skipping edited ones
    python -m tools.make_chapters --force    # overwrite edited chapters too
    python -m tools.make_chapters --check    # exit 1 if chapters/ is out of date (used by the tests)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_NAME = ".generated.json"

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?::[ \t]*(?P<hint>.*?))?[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
PLACEHOLDER_MESSAGE = "Exercise not started: replace this line with your code"
LINE_WIDTH = 88  # the width a code cell shows without scrolling, in the book and in JupyterLab


class MarkerError(ValueError):
    """A solution file whose markers are malformed."""


def strip_solutions(source: str, where: str = "<cell>") -> str:
    """Replace every marked answer in a code cell's source with a placeholder."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if inside:
                raise MarkerError(f"{where}, line {number}: BEGIN SOLUTION inside another solution")
            indent, hint = begin.group("indent"), (begin.group("hint") or "").strip()
            if not indent:
                raise MarkerError(
                    f"{where}, line {number}: a solution must sit inside a function body, so that the "
                    "chapter still runs while the exercise is unfinished"
                )
            if not hint:
                raise MarkerError(
                    f"{where}, line {number}: say what to write, e.g. '### BEGIN SOLUTION: return ...'"
                )
            width = max(40, LINE_WIDTH - len(indent))
            comment = textwrap.wrap(f"YOUR CODE HERE: {hint}", width=width - 2, subsequent_indent="  ")
            out.extend(f"{indent}# {line}" for line in comment)
            out.append(f'{indent}raise NotImplementedError("{PLACEHOLDER_MESSAGE}")')
            inside = True
        elif end:
            if not inside:
                raise MarkerError(f"{where}, line {number}: END SOLUTION without BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "\n".join(out)


def has_solution(source: str) -> bool:
    """Whether a cell's source holds at least one marked answer."""
    return any(BEGIN.match(line) for line in source.splitlines())


def learner_notebook(solution_py: Path) -> nbformat.NotebookNode:
    """The chapter a learner opens: the solution's cells, answers replaced, no outputs."""
    notebook = jupytext.read(solution_py)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, where=f"{solution_py.name}, cell {index}")
            cell.outputs = []
            cell.execution_count = None
    return notebook


def fingerprint(notebook: nbformat.NotebookNode) -> str:
    """A hash of what a learner can edit: the type and source of every cell (not outputs or metadata).

    Running a notebook changes its outputs but not this fingerprint, so a chapter that was only run,
    not edited, is still safe to regenerate.
    """
    digest = hashlib.sha256()
    for cell in notebook.cells:
        digest.update(cell.cell_type.encode())
        digest.update(b"\0")
        digest.update(cell.source.strip().encode())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass
class Report:
    written: list[str]
    unchanged: list[str]
    skipped: list[str]
    stale: list[str]


def generate(
    solutions: Path = ROOT / "solutions",
    chapters: Path = ROOT / "chapters",
    *,
    force: bool = False,
    check: bool = False,
) -> Report:
    """Bring chapters/ up to date with solutions/ (or, with check=True, only report what is stale)."""
    chapters.mkdir(parents=True, exist_ok=True)
    manifest_path = chapters / MANIFEST_NAME
    manifest: dict[str, str] = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    report = Report([], [], [], [])

    for solution_py in sorted(solutions.glob("[0-9][0-9]_*.py")):
        notebook = learner_notebook(solution_py)
        new_print = fingerprint(notebook)
        py_text = jupytext.writes(notebook, fmt="py:percent")
        ipynb_text = jupytext.writes(notebook, fmt="ipynb")
        targets = {chapters / solution_py.name: py_text, chapters / f"{solution_py.stem}.ipynb": ipynb_text}

        current = {path: fingerprint(jupytext.read(path)) for path in targets if path.exists()}
        up_to_date = (
            len(current) == len(targets)
            and all(value == new_print for value in current.values())
            and (chapters / solution_py.name).read_text() == py_text
            and manifest.get(solution_py.stem) == new_print
        )
        if up_to_date:
            report.unchanged.append(solution_py.stem)
            continue
        if check:
            report.stale.append(solution_py.stem)
            continue

        recorded = manifest.get(solution_py.stem)
        edited = [path.name for path, value in current.items() if value not in (recorded, new_print)]
        if edited and not force:
            report.skipped.extend(edited)
            continue
        for path, text in targets.items():
            path.write_text(text)
        manifest[solution_py.stem] = new_print
        report.written.append(solution_py.stem)

    if not check:
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="overwrite chapters a learner has edited")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if chapters/ is stale")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--chapters", type=Path, default=ROOT / "chapters")
    args = parser.parse_args(argv)

    try:
        report = generate(args.solutions, args.chapters, force=args.force, check=args.check)
    except MarkerError as error:
        print(f"make_chapters: {error}", file=sys.stderr)
        return 2

    if args.check:
        if report.stale:
            print("chapters/ is out of date for: " + ", ".join(report.stale) + ". Run: make chapters")
            return 1
        print(f"chapters/ is up to date ({len(report.unchanged)} chapters).")
        return 0
    for stem in report.written:
        print(f"wrote    chapters/{stem}.py and chapters/{stem}.ipynb")
    for name in report.skipped:
        print(f"skipped  chapters/{name}: you have edited it. Keep your work, or regenerate with --force.")
    if not report.written and not report.skipped:
        print(f"chapters/ is already up to date ({len(report.unchanged)} chapters).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
