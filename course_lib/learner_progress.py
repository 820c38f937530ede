"""Your progress through the exercises, offline and without an account.

    make progress
    python -m course_lib.learner_progress chapters/

reads your own chapter files and prints one row per exercise: correct, not yet (with the check's hint),
or not started, and the total. It runs only what each check needs, never a whole chapter: for every
check cell (``name = chNN.check_name(name, ...)``) the cell above it that defines ``name``, and,
going back through the chapter, each earlier cell that defines a name those cells use (the imports,
a network, an example state), found by reading the code, not by running it. The experiments that
train agents define nothing an exercise uses, so they are left out, and all chapters take seconds.

Which file is yours: each chapter is a pair, ``NN_name.py`` and ``NN_name.ipynb``. JupyterLab's
jupytext saves both when you save either; an editor saves only the .py, Colab only the .ipynb. So
the newer of the two is your latest work (the .py when both were saved in the same second).

Nothing is written to your files. Each chapter runs in a subprocess of its own, in a temporary
folder, with a time limit, so that an answer that loops forever costs one chapter's row, not the
table.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import symtable
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.compile_options import QUICK_XLA_FLAGS

__all__ = ["Exercise", "Row", "chapter_plan", "latest_copy", "main", "progress"]

CHAPTER_GLOB = "[0-9][0-9]_*"
TIMEOUT_SECONDS = 120.0  # per chapter; every chapter's checks take well under half of that
VERDICT = re.compile(r"^(?P<mark>[✅❌⏳]) (?P<title>.*?): (?P<status>correct|not yet|not started)\.\s*(?P<rest>.*)$")
CHECK_CALL = re.compile(r"^ch\d\d$")
PLACEHOLDER = "Exercise not started: replace this line with your code"  # tools/make_chapters writes it
FOLLOW = "The rest of the chapter uses the reference implementation from course_lib."
MARKS = {"correct": "✅", "not yet": "❌", "not started": "⏳", "not checked": "⚠️"}


# ---------------------------------------------------------------------------------------------
# Reading a chapter: which file, which cells


def latest_copy(chapters: Path, stem: str) -> Path:
    """The learner's latest copy of a chapter: the newer of NN_name.py and NN_name.ipynb (the .py on a tie)."""
    copies = [path for path in (chapters / f"{stem}.py", chapters / f"{stem}.ipynb") if path.exists()]
    if not copies:
        raise FileNotFoundError(f"chapter {stem}: neither {stem}.py nor {stem}.ipynb is in {chapters}")
    # Whole seconds: a save of the pair writes the two files within the same second, in either order.
    return max(copies, key=lambda path: (int(path.stat().st_mtime), path.suffix == ".py"))


def code_cells(path: Path) -> list[str]:
    """The source of every code cell, in order, from a py:percent file or a notebook."""
    if path.suffix == ".ipynb":
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook.get("cells", [])
        return [
            "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for cell in cells
            if cell.get("cell_type") == "code"
        ]
    import jupytext  # only here: reading a .py chapter needs it, the rest of course_lib does not

    return [cell.source for cell in jupytext.read(path).cells if cell.cell_type == "code"]


def as_python(source: str) -> str:
    """A cell's source as plain Python: IPython's own translation of %magics and !commands."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _check_call(tree: ast.Module) -> tuple[str, str, str] | None:
    """(name, chNN, check_fn) when a cell is an exercise's check: ``name = chNN.check_x(name, ...)``."""
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Attribute)
            and isinstance(statement.value.func.value, ast.Name)
            and CHECK_CALL.match(statement.value.func.value.id)
            and statement.value.func.attr.startswith("check_")
        ):
            return statement.targets[0].id, statement.value.func.value.id, statement.value.func.attr
    return None


def _names(source: str) -> tuple[set[str], set[str]]:
    """(defined, used): the global names a cell binds, and the global names it reads, also inside the
    functions it defines (those run when the check calls them). Local variables and parameters are not
    globals, so a function's ``state`` or ``key`` never pulls in the chapter's own ``state``."""
    table = symtable.symtable(source, "<cell>", "exec")
    defined = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_assigned() or symbol.is_imported()}
    used = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_referenced()}
    pending = list(table.get_children())
    while pending:
        child = pending.pop()
        pending.extend(child.get_children())
        for symbol in child.get_symbols():
            if symbol.is_global() and symbol.is_referenced():
                used.add(symbol.get_name())
            if symbol.is_declared_global() and symbol.is_assigned():
                defined.add(symbol.get_name())
    return defined, used


@dataclass
class Cell:
    index: int  # among the chapter's code cells
    python: str  # IPython-translated source; "" when it does not parse
    defined: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    error: str = ""  # why it does not parse


@dataclass
class Exercise:
    """One exercise of a chapter: its check cell, the cell defining the answer, and what else must run."""

    name: str
    check: str  # e.g. check_sample_average_update
    number: str  # "0.1", or "" when the check is not one of course_lib's
    check_cell: int | None  # None: the chapter has no check cell for it any more
    answer_cell: int | None = None
    needs: list[int] = field(default_factory=list)  # every cell to run first, the answer's cell included
    label: str = ""  # "0.1 sample_average_update"


def parse_cells(sources: list[str]) -> list[Cell]:
    cells = []
    for index, source in enumerate(sources):
        try:
            python = as_python(source)
            ast.parse(python)
            defined, used = _names(python)
            cells.append(Cell(index, python, defined, used))
        except SyntaxError as error:
            cells.append(Cell(index, "", error=f"SyntaxError: {error.msg} (line {error.lineno})"))
    return cells


def _dependencies(cells: list[Cell], start: list[int]) -> list[int]:
    """The cells ``start`` need, found backwards: for each name a needed cell uses, the last cell
    before it that binds the name. Returns ``start`` and their dependencies, in notebook order."""
    needed, pending = set(start), list(start)
    while pending:
        index = pending.pop()
        for name in cells[index].used:
            for earlier in range(index - 1, -1, -1):
                if name in cells[earlier].defined:
                    if earlier not in needed:
                        needed.add(earlier)
                        pending.append(earlier)
                    break
    return sorted(needed)


def expected_checks(module: str) -> dict[str, str]:
    """The check functions of ``course_lib.exercises.chNN`` and their exercise numbers ("0.1", from the
    docstring), in the order they are written, read from the source: importing the module would import
    JAX in this process."""
    path = Path(__file__).parent / "exercises" / f"{module}.py"
    if not path.exists():
        return {}
    checks = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"):
            number = re.match(r"Exercise (\d+\.\d+)", ast.get_docstring(node) or "")
            checks[node.name] = number.group(1) if number else ""
    return checks


def chapter_plan(sources: list[str], module: str) -> tuple[list[Cell], list[Exercise]]:
    """The chapter's cells and its exercises, each with the cells its check needs."""
    cells = parse_cells(sources)
    numbers = expected_checks(module)
    exercises: list[Exercise] = []
    for cell in cells:
        found = _check_call(ast.parse(cell.python)) if cell.python else None
        if found is None:
            continue
        name, _, check = found
        answer = next((c.index for c in reversed(cells[: cell.index]) if name in c.defined or c.error), None)
        start = [cell.index] if answer is None else [answer, cell.index]
        needs = [i for i in _dependencies(cells, start) if i != cell.index]
        exercises.append(Exercise(name, check, numbers.get(check, ""), cell.index, answer, needs))
    found_checks = {exercise.check for exercise in exercises}
    for check, number in numbers.items():
        if check not in found_checks:
            exercises.append(Exercise(check.removeprefix("check_"), check, number, None))
    for exercise in exercises:
        exercise.label = f"{exercise.number} {exercise.name}".strip()
    return cells, exercises


def untouched(cell: Cell, name: str) -> bool:
    """Whether the answer is still the chapter's placeholder: the function ``name`` still raises the
    placeholder's NotImplementedError at the top level of its body and returns nothing before it. Such
    a function can only raise, which its check reports as "not started", so it need not run."""
    if not cell.python:
        return False
    for node in ast.parse(cell.python).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            for statement in node.body:
                if isinstance(statement, ast.Raise) and PLACEHOLDER in ast.unparse(statement):
                    return True
                if any(isinstance(inner, (ast.Return, ast.Yield, ast.YieldFrom)) for inner in ast.walk(statement)):
                    return False
    return False


# ---------------------------------------------------------------------------------------------
# Running the checks (in a subprocess per chapter: python -m course_lib.learner_progress --worker)


def _error_line(error: BaseException) -> str:
    first = (str(error).splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def run_cells(cells: list[str], wanted: list[int], checks: list[int], results: io.TextIOBase) -> None:
    """Run the ``wanted`` cells in order in one IPython shell, as the notebook would. Write one JSON
    line for each check cell (what it printed) and for each cell that raised (the error)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from IPython.core.interactiveshell import InteractiveShell

    ours = not InteractiveShell.initialized()
    shell = InteractiveShell.instance()
    try:
        for index in wanted:
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(io.StringIO()):
                outcome = shell.run_cell(cells[index], store_history=False)
            error = outcome.error_before_exec or outcome.error_in_exec
            if index in checks or error is not None:
                entry = {"cell": index, "output": captured.getvalue(), "error": _error_line(error) if error else ""}
                results.write(json.dumps(entry) + "\n")
                results.flush()
    finally:
        # A shell this function made must not outlive it: while it exists, get_ipython() answers, and
        # code in the same process (a ProgressBar, say) would think it runs in a notebook.
        if ours:
            InteractiveShell.clear_instance()


def _worker(plan_file: str, results_file: str) -> int:
    plan = json.loads(Path(plan_file).read_text(encoding="utf-8"))
    with open(results_file, "w", encoding="utf-8") as results:
        try:
            run_cells(plan["cells"], plan["wanted"], plan["checks"], results)
        except BaseException:  # noqa: BLE001 -- reported by the parent as the chapter's problem
            traceback.print_exc()
            return 1
    return 0


# ---------------------------------------------------------------------------------------------
# Verdicts


@dataclass
class Row:
    chapter: str
    exercise: str  # "0.1 sample_average_update"
    status: str  # correct, not yet, not started, not checked
    detail: str = ""  # the hint for "not yet", the reason for "not checked"


def read_verdict(output: str) -> tuple[str, str, str] | None:
    """(title, status, detail) of the verdict a check printed, or None when it printed none."""
    lines = output.splitlines()
    for number, line in enumerate(lines):
        match = VERDICT.match(line)
        if not match:
            continue
        rest = [match.group("rest")] + [
            following.strip() for following in lines[number + 1 :] if following.startswith("   ")
        ]
        detail = " ".join(part for part in rest if part and part != FOLLOW).replace(FOLLOW, "").strip()
        return match.group("title"), match.group("status"), detail if match.group("status") == "not yet" else ""
    return None


def _first_line(cell: Cell) -> str:
    return next((line.strip() for line in cell.python.splitlines() if line.strip() and not line.startswith("#")), "")


def _rows_for(
    stem: str, cells: list[Cell], exercises: list[Exercise], results: dict[int, dict], problem: str
) -> list[Row]:
    """One row per exercise, from what its cells printed or raised."""
    rows = []
    for exercise in exercises:
        row = Row(stem, exercise.label, "not checked")
        if exercise.check_cell is None:
            row.detail = f"no check cell `{exercise.name} = ...{exercise.check}({exercise.name})` in the chapter any more"
            rows.append(row)
            continue
        ran = (*exercise.needs, exercise.check_cell)
        failed = next((cells[i] for i in ran if cells[i].error or results.get(i, {}).get("error")), None)
        verdict = read_verdict(results.get(exercise.check_cell, {}).get("output", ""))
        if verdict is not None:
            row.status, row.detail = verdict[1], verdict[2]
        elif failed is not None:
            where = (
                "your answer's cell"
                if failed.index == exercise.answer_cell
                else "the check cell" if failed.index == exercise.check_cell else f"the cell `{_first_line(failed)}`"
            )
            row.status = "not yet"
            row.detail = f"{where} raised {failed.error or results[failed.index]['error']}"
        else:
            row.detail = problem or "the check printed no verdict"
        rows.append(row)
    return rows


class VerdictCache:
    """Verdicts of earlier runs, keyed by the exact code a check ran (its cells, in order) and by
    course_lib's own source: an exercise whose cells and checks are unchanged is not run again."""

    def __init__(self, folder: Path | None):
        self.path = folder / "verdicts.json" if folder else None
        self.entries: dict[str, dict] = {}
        if self.path and self.path.exists():
            with contextlib.suppress(OSError, ValueError):
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))
        library = hashlib.sha256()
        for source in sorted(Path(__file__).parent.rglob("*.py")):
            library.update(source.read_bytes())
        self.library = library.hexdigest()

    def key(self, cells: list[Cell], exercise: Exercise) -> str:
        digest = hashlib.sha256(self.library.encode())
        for index in (*exercise.needs, exercise.check_cell):
            digest.update(cells[index].python.encode() + b"\0")
        return digest.hexdigest()

    def get(self, key: str) -> Row | None:
        entry = self.entries.get(key)
        return Row(**entry) if entry else None

    def put(self, key: str, row: Row) -> None:
        if self.path and row.status != "not checked":
            self.entries[key] = row.__dict__

    def save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.entries, indent=1) + "\n", encoding="utf-8")


# The checks compile every program they run, and compiling is most of their time: the worker compiles
# at QUICK_COMPILE's settings (QUICK_XLA_FLAGS; flags the caller set come after, and win).


def _run(cells: list[Cell], exercises: list[Exercise], timeout: float) -> tuple[dict[int, dict], str]:
    """Run what ``exercises`` need in a subprocess, in a temporary folder; the check cells' results."""
    checks = [exercise.check_cell for exercise in exercises]
    wanted = sorted({i for exercise in exercises for i in exercise.needs} | set(checks))
    wanted = [i for i in wanted if not cells[i].error]
    results: dict[int, dict] = {}
    problem = ""
    with tempfile.TemporaryDirectory(prefix="progress-") as folder:
        plan_file, results_file = Path(folder) / "plan.json", Path(folder) / "results.jsonl"
        plan_file.write_text(json.dumps({"cells": [cell.python for cell in cells], "wanted": wanted, "checks": checks}))
        command = [sys.executable, "-m", "course_lib.learner_progress", "--worker", str(plan_file), str(results_file)]
        env = {**os.environ, "MPLBACKEND": "Agg", "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu"),
               "XLA_FLAGS": f"{QUICK_XLA_FLAGS} {os.environ.get('XLA_FLAGS', '')}".strip()}  # fmt: skip
        try:
            finished = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
            if finished.returncode != 0:
                problem = f"the checks stopped: {(finished.stderr.strip().splitlines() or ['no message'])[-1]}"
        except subprocess.TimeoutExpired:
            problem = f"the checks did not finish within {timeout:.0f} s (does your code loop forever?)"
        if results_file.exists():
            for line in results_file.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                results[entry["cell"]] = entry
    return results, problem


@dataclass
class ChapterPlan:
    """What one chapter file needs: its cells, its exercises, the verdicts known without running, and
    the exercises left to run."""

    stem: str
    cells: list[Cell]
    exercises: list[Exercise]
    known: dict[int, Row]
    to_run: list[Exercise]


def plan_chapter(path: Path, cache: VerdictCache) -> ChapterPlan:
    """Read one chapter file and sort its exercises. An exercise still holding its placeholder is
    "not started" without running; one whose code is unchanged since the last run keeps its verdict.
    This reads code with ``ast``, so call it from one thread only: in CPython 3.11 the AST constructor
    keeps one recursion counter per interpreter, and two threads parsing at once fail at random with
    "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905). It happened in CI."""
    stem = path.stem
    cells, exercises = chapter_plan(code_cells(path), f"ch{stem[:2]}")
    known: dict[int, Row] = {}
    to_run = []
    for number, exercise in enumerate(exercises):
        if exercise.check_cell is None or exercise.answer_cell is None:
            continue
        if untouched(cells[exercise.answer_cell], exercise.name):
            known[number] = Row(stem, exercise.label, "not started")
        elif (row := cache.get(cache.key(cells, exercise))) is not None:
            known[number] = row
        else:
            to_run.append(exercise)
    return ChapterPlan(stem=stem, cells=cells, exercises=exercises, known=known, to_run=to_run)


def run_plan(plan: ChapterPlan, timeout: float, cache: VerdictCache) -> list[Row]:
    """The rows of one planned chapter: the exercises left to run run in one subprocess, which runs only
    what their checks need. Safe to call from several threads (no ``ast`` here)."""
    results, problem = _run(plan.cells, plan.to_run, timeout) if plan.to_run else ({}, "")
    rows = _rows_for(plan.stem, plan.cells, plan.exercises, results, problem)
    for number, exercise in enumerate(plan.exercises):
        if number in plan.known:
            rows[number] = plan.known[number]
        elif exercise in plan.to_run:
            cache.put(cache.key(plan.cells, exercise), rows[number])
    return rows


def check_chapter(path: Path, timeout: float = TIMEOUT_SECONDS, cache: VerdictCache | None = None) -> list[Row]:
    """The rows of one chapter file (see ``plan_chapter`` and ``run_plan``)."""
    cache = cache or VerdictCache(None)
    return run_plan(plan_chapter(path, cache), timeout, cache)


# ---------------------------------------------------------------------------------------------
# The table


def progress(
    chapters: Path, timeout: float = TIMEOUT_SECONDS, jobs: int = 2, cache: Path | None = None
) -> tuple[list[Row], list[Path]]:
    """Every chapter's rows, two chapters at a time (one core each), and the files they were read from.
    ``cache``: a folder that keeps verdicts between runs (None: check everything afresh)."""
    stems = sorted({path.stem for pattern in ("*.py", "*.ipynb") for path in chapters.glob(CHAPTER_GLOB + pattern[1:])})
    if not stems:
        raise FileNotFoundError(f"no chapters (NN_name.py or .ipynb) in {chapters}")
    files = [latest_copy(chapters, stem) for stem in stems]
    verdicts = VerdictCache(cache)
    plans = [plan_chapter(path, verdicts) for path in files]  # ast in this thread only
    # Later chapters train longer (06's check trains PPO on the learner's code: about a third of the
    # total), so they start first and the short ones fill the other core around them.
    heaviest_first = sorted(range(len(plans)), key=lambda i: plans[i].stem, reverse=True)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {i: pool.submit(run_plan, plans[i], timeout, verdicts) for i in heaviest_first}
        per_chapter = [futures[i].result() for i in range(len(plans))]
    verdicts.save()
    return [row for rows in per_chapter for row in rows], files


def _wrap(text: str, indent: int, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=" " * indent, subsequent_indent=" " * indent)


def format_table(rows: list[Row], width: int = 100) -> str:
    """One line per exercise, a not-yet hint wrapped beneath it, and the total."""
    chapter_width = max(len("chapter"), *(len(row.chapter) for row in rows))
    exercise_width = max(len("exercise"), *(len(row.exercise) for row in rows))
    lines = [f"{'chapter':<{chapter_width}}  {'exercise':<{exercise_width}}  verdict"]
    lines.append("-" * min(width, chapter_width + exercise_width + 18))
    for row in rows:
        lines.append(f"{row.chapter:<{chapter_width}}  {row.exercise:<{exercise_width}}  {MARKS[row.status]} {row.status}")
        if row.detail:
            lines.extend(_wrap(row.detail, chapter_width + 2, width))
    counts = {status: sum(row.status == status for row in rows) for status in MARKS}
    total = f"Total: {counts['correct']} of {len(rows)} exercises correct, {counts['not yet']} not yet, "
    total += f"{counts['not started']} not started"
    total += f", {counts['not checked']} not checked." if counts["not checked"] else "."
    lines += ["-" * min(width, chapter_width + exercise_width + 18), total]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.learner_progress",
        description="Check every exercise in your chapters and print a table. Changes none of your files.",
    )
    parser.add_argument("chapters", nargs="?", type=Path, default=Path("chapters"), help="default: chapters")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds per chapter")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(".cache") / "progress",
        help="folder for the verdicts of earlier runs, so unchanged exercises are not checked again "
        "(default: .cache/progress; --no-cache checks everything)",
    )
    parser.add_argument("--no-cache", dest="cache", action="store_const", const=None)
    parser.add_argument("--worker", nargs=2, metavar=("PLAN", "RESULTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(*args.worker)
    if not args.chapters.is_dir():
        print(f"progress: {args.chapters} is not a folder; give the course's chapters/ folder", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        rows, files = progress(args.chapters, timeout=args.timeout, cache=args.cache)
    except FileNotFoundError as error:
        print(f"progress: {error}", file=sys.stderr)
        return 2
    kinds = sorted({path.suffix for path in files})
    print(
        f"Your exercises in {args.chapters}/ (from the newer of each chapter's .py and .ipynb: "
        f"{', '.join(kinds)}; nothing was changed)\n"
    )
    print(format_table(rows))
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
