"""Generate the learner notebooks in chapters/ from the source of truth in solutions/.

Each exercise answer in a solution sits between two marker lines inside a function body:

    ### BEGIN SOLUTION: what the learner should write, in one sentence
        ...the answer...
    ### END SOLUTION

In the generated chapter the answer becomes a placeholder that says what to write and raises
NotImplementedError, which the exercise checks report as "not started".

A learner's work is never lost. A manifest (chapters/.generated.json) records the fingerprint of
every version of a chapter this script wrote: the type, source, tags and metadata of each cell, not
its outputs. A chapter file that matches one of them is the course's, even an old copy that an open
JupyterLab tab saved again, and is regenerated. Any other file is the learner's: it is skipped and
named, and --force first moves it to chapters/.backup/<date and time>/. Without a manifest, a chapter
identical to what solutions/ generate now is recognised; any other is kept as the learner's.

--check (run by `make test`) separates the two. A chapter the learner edited is named, with what to
do, and is not a failure: `make test` runs a fresh generation of the chapters, never the learner's
files. A chapter that is out of date and untouched (the solutions changed) is a failure, and so is
everything else in --strict mode, which CI uses (it is on when the CI variable is set): in a clean
clone every chapter must be exactly what solutions/ generate.

Usage:
    python -m tools.make_chapters              # write chapters/, skipping edited ones
    python -m tools.make_chapters --force      # back up edited chapters, then regenerate them
    python -m tools.make_chapters --check      # exit 1 if chapters/ is stale (make test)
    python -m tools.make_chapters --fresh DIR  # a fresh generation into a build folder (make test, make book)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_NAME = ".generated.json"
MANIFEST_FORMAT = 2
BACKUP_NAME = ".backup"
CHAPTER_GLOB = "[0-9][0-9]_*"
KEPT_VERSIONS = 30  # fingerprints remembered per chapter: enough for every regeneration a course sees

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?::[ \t]*(?P<hint>.*?))?[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
PLACEHOLDER_MESSAGE = "Exercise not started: replace this line with your code"
LINE_WIDTH = 88  # the width a code cell shows without scrolling, in the book and in JupyterLab

# Cell metadata that running or viewing a notebook writes, or that only records jupytext's layout of
# the .py file: not a learner's edit. Everything else (tags above all) is part of the fingerprint.
NOT_EDITS = frozenset(
    {
        "autoscroll",
        "collapsed",
        "scrolled",
        "trusted",
        "execution",
        "ExecuteTime",
        "jupyter",  # source_hidden / outputs_hidden: a view choice
        "lines_to_next_cell",
        "lines_to_end_of_cell_marker",
        "cell_marker",
    }
)


class MarkerError(ValueError):
    """A solution file whose markers are malformed."""


class FreshFolderError(ValueError):
    """--fresh was pointed at a folder that holds a learner's chapters."""


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


def chapter_texts(solution_py: Path) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    """The generated chapter and the text of its two files, keyed by suffix (.py, .ipynb)."""
    notebook = learner_notebook(solution_py)
    texts = {".py": jupytext.writes(notebook, fmt="py:percent"), ".ipynb": jupytext.writes(notebook, fmt="ipynb")}
    return notebook, texts


def edited_metadata(cell: nbformat.NotebookNode) -> dict:
    """The cell metadata a learner sets on purpose (tags, slideshow, ...), without empty tag lists."""
    kept = {key: value for key, value in cell.get("metadata", {}).items() if key not in NOT_EDITS}
    if kept.get("tags") == []:
        del kept["tags"]
    return kept


def fingerprint(notebook: nbformat.NotebookNode) -> str:
    """A hash of what a learner can edit: the type, source, tags and metadata of every cell.

    Outputs and execution counts are left out, and so is the metadata that running a notebook writes
    (NOT_EDITS): a chapter that was only run, not edited, is still safe to regenerate.
    """
    digest = hashlib.sha256()
    for cell in notebook.cells:
        for part in (cell.cell_type, cell.source.strip(), json.dumps(edited_metadata(cell), sort_keys=True)):
            digest.update(part.encode())
            digest.update(b"\0")
    return digest.hexdigest()


def text_fingerprint(notebook: nbformat.NotebookNode) -> str:
    """The fingerprint of manifests written before tags and metadata counted: cell types and sources."""
    digest = hashlib.sha256()
    for cell in notebook.cells:
        digest.update(cell.cell_type.encode())
        digest.update(b"\0")
        digest.update(cell.source.strip().encode())
        digest.update(b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Reading what is on disk without a traceback


def why_unreadable(error: Exception) -> str:
    """What went wrong, in the learner's terms rather than the parser's."""
    if isinstance(error, (nbformat.reader.NotJSONError, json.JSONDecodeError)):
        return "it is not complete JSON, as when a crash or a full disk cuts a save short"
    if isinstance(error, UnicodeDecodeError):
        return "it is not UTF-8 text"
    first_line = (str(error).splitlines() or [""])[0]
    return f"it is not a notebook jupytext can read ({type(error).__name__}: {first_line})"


def read_chapter_file(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """The notebook in a chapter file, or None and the reason it cannot be read."""
    try:
        return jupytext.read(path), ""
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as error:
        return None, why_unreadable(error)


@dataclass
class Manifest:
    """Which fingerprints this script wrote for each chapter (oldest first), and any reading problem."""

    path: Path
    versions: dict[str, list[str]] = field(default_factory=dict)
    legacy: dict[str, str] = field(default_factory=dict)  # from a format-1 manifest: text_fingerprint
    problem: str = ""

    @classmethod
    def read(cls, path: Path) -> Manifest:
        manifest = cls(path)
        if not path.exists():
            return manifest
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            manifest.problem = why_unreadable(error)
            return manifest
        if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT and isinstance(data.get("chapters"), dict):
            entries = data["chapters"]
            if all(isinstance(v, list) and all(isinstance(p, str) for p in v) for v in entries.values()):
                manifest.versions = {stem: list(prints) for stem, prints in entries.items()}
                manifest.legacy = {k: v for k, v in data.get("text-only", {}).items() if isinstance(v, str)}
                return manifest
        elif isinstance(data, dict) and "format" not in data and all(isinstance(v, str) for v in data.values()):
            manifest.legacy = dict(data)
            return manifest
        manifest.problem = "its content is not the list of chapter fingerprints this script writes"
        return manifest

    def knows(self, stem: str, notebook: nbformat.NotebookNode) -> bool:
        """Whether this script wrote exactly these cells for this chapter at some time."""
        if fingerprint(notebook) in self.versions.get(stem, []):
            return True
        return stem in self.legacy and text_fingerprint(notebook) == self.legacy[stem]

    def is_current(self, stem: str, new_print: str, new_text_print: str) -> bool:
        if stem in self.versions:
            return self.versions[stem][-1:] == [new_print]
        return self.legacy.get(stem) == new_text_print

    def record(self, stem: str, new_print: str) -> None:
        history = [p for p in self.versions.get(stem, []) if p != new_print]
        self.versions[stem] = (history + [new_print])[-KEPT_VERSIONS:]

    def forget(self, stem: str) -> None:
        self.versions.pop(stem, None)
        self.legacy.pop(stem, None)

    def write(self) -> None:
        # A format-1 entry (cells' text only) is kept as one more earlier version, so that a copy of
        # that version saved again later is still recognised as the course's.
        data = {"format": MANIFEST_FORMAT, "chapters": dict(sorted(self.versions.items()))}
        if self.legacy:
            data["text-only"] = dict(sorted(self.legacy.items()))
        self.path.write_text(json.dumps(data, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------
# Classifying each chapter


@dataclass
class FileState:
    path: Path
    state: str  # "missing", "current" (what solutions/ generate now), "generated earlier", "edited", "unreadable"
    reason: str = ""  # why an unreadable file cannot be read

    @property
    def learners(self) -> bool:
        return self.state in ("edited", "unreadable")


def file_state(path: Path, stem: str, manifest: Manifest, new_print: str | None) -> FileState:
    if not path.exists():
        return FileState(path, "missing")
    notebook, reason = read_chapter_file(path)
    if notebook is None:
        return FileState(path, "unreadable", reason)
    if new_print is not None and fingerprint(notebook) == new_print:
        return FileState(path, "current")
    if manifest.knows(stem, notebook):
        return FileState(path, "generated earlier")
    return FileState(path, "edited")


@dataclass
class LearnerChapter:
    """A chapter that holds a learner's work: what is theirs, and whether the course has a newer version."""

    stem: str
    files: list[FileState]
    newer_version: bool  # False when unknown (no manifest) or when the chapter is an orphan
    orphan: bool = False


@dataclass
class Report:
    written: list[str] = field(default_factory=list)  # chapters regenerated
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # file names kept because the learner edited them
    stale: list[str] = field(default_factory=list)  # --check: out of date and not edited (author drift)
    learners: list[LearnerChapter] = field(default_factory=list)  # chapters holding a learner's work
    orphans_moved: list[str] = field(default_factory=list)  # unedited chapters without a solution, moved away
    backed_up: list[tuple[Path, Path]] = field(default_factory=list)  # (from, to)
    manifest_problem: str = ""

    @property
    def orphans(self) -> list[str]:
        return [state.path.name for chapter in self.learners if chapter.orphan for state in chapter.files]


def backup_folder(chapters: Path) -> Path:
    """A new folder chapters/.backup/<date>_<time>, never one that exists already."""
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    folder = chapters / BACKUP_NAME / stamp
    number = 1
    while folder.exists():
        number += 1
        folder = chapters / BACKUP_NAME / f"{stamp}_{number}"
    return folder


class Backup:
    """Moves files into one dated backup folder per run, created when the first file is moved."""

    def __init__(self, chapters: Path, report: Report):
        self.chapters, self.report, self.folder = chapters, report, None

    def move(self, paths: list[Path]) -> None:
        for path in paths:
            if not path.exists():
                continue
            if self.folder is None:
                self.folder = backup_folder(self.chapters)
                self.folder.mkdir(parents=True)
            target = self.folder / path.name
            os.replace(path, target)
            self.report.backed_up.append((path, target))


def needs_writing(state: FileState, text: str) -> bool:
    """Whether a file differs from what solutions/ generate. A notebook that only gained outputs keeps them."""
    if state.state != "current" or not state.path.exists():
        return True
    return state.path.suffix == ".py" and state.path.read_text() != text


def generate(
    solutions: Path = ROOT / "solutions",
    chapters: Path = ROOT / "chapters",
    *,
    force: bool = False,
    check: bool = False,
) -> Report:
    """Bring chapters/ up to date with solutions/ (or, with check=True, only report what is stale).

    A learner's file is never overwritten or deleted: without force it is skipped, with force it is
    first moved to chapters/.backup/<date>_<time>/.
    """
    if not check:
        chapters.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.read(chapters / MANIFEST_NAME)
    report = Report(manifest_problem=manifest.problem)
    backup = Backup(chapters, report)

    solution_stems = set()
    for solution_py in sorted(solutions.glob(f"{CHAPTER_GLOB}.py")):
        stem = solution_py.stem
        solution_stems.add(stem)
        notebook, texts = chapter_texts(solution_py)
        new_print = fingerprint(notebook)
        states = [file_state(chapters / f"{stem}{suffix}", stem, manifest, new_print) for suffix in texts]
        learners = [state for state in states if state.learners]
        exact = all(
            state.state == "current" and (state.path.suffix != ".py" or state.path.read_text() == texts[".py"])
            for state in states
        )
        recorded = manifest.is_current(stem, new_print, text_fingerprint(notebook))

        if learners and not force:
            known = bool(manifest.versions.get(stem) or stem in manifest.legacy)
            report.learners.append(LearnerChapter(stem, learners, newer_version=known and not recorded))
            if not check:
                report.skipped.extend(state.path.name for state in learners)
                if not known and any(state.state == "current" for state in states):
                    manifest.record(stem, new_print)  # a lost manifest learns what it can vouch for
            continue
        if exact and recorded:
            report.unchanged.append(stem)
            if not check and stem not in manifest.versions:
                manifest.record(stem, new_print)  # a format-1 entry gains its full fingerprint
            continue
        if check:
            report.stale.append(stem)
            continue
        if learners:
            backup.move([state.path for state in states])
        for state in states:
            if needs_writing(state, texts[state.path.suffix]):
                state.path.write_text(texts[state.path.suffix])
        manifest.record(stem, new_print)
        report.written.append(stem)

    orphan_stems = {path.stem for path in chapters.glob(f"{CHAPTER_GLOB}.py")} | {
        path.stem for path in chapters.glob(f"{CHAPTER_GLOB}.ipynb")
    }
    for stem in sorted(orphan_stems - solution_stems):
        states = [file_state(chapters / f"{stem}{suffix}", stem, manifest, None) for suffix in (".py", ".ipynb")]
        states = [state for state in states if state.state != "missing"]
        learners = [state for state in states if state.learners]
        if learners and not force:
            report.learners.append(LearnerChapter(stem, states, newer_version=False, orphan=True))
        elif check:
            report.stale.append(stem)
        else:
            backup.move([state.path for state in states])
            manifest.forget(stem)
            report.orphans_moved.append(stem)

    if not check:
        manifest.write()
    return report


def write_fresh(solutions: Path, out: Path, suffixes: tuple[str, ...] = (".py", ".ipynb")) -> list[Path]:
    """Write every chapter as solutions/ generate it into a build folder, replacing earlier ones there.

    `make test` runs these and `make book` offers them for download, so that neither ever uses, or
    publishes, the learner's own files in chapters/.
    """
    if (out / MANIFEST_NAME).exists():
        raise FreshFolderError(
            f"--fresh {out}: that folder holds a learner's chapters ({MANIFEST_NAME} is in it); "
            "give a build folder such as .cache/chapters"
        )
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob(f"{CHAPTER_GLOB}.py"), *out.glob(f"{CHAPTER_GLOB}.ipynb")]:
        old.unlink()
    written = []
    for solution_py in sorted(solutions.glob(f"{CHAPTER_GLOB}.py")):
        for suffix, text in chapter_texts(solution_py)[1].items():
            if suffix not in suffixes:
                continue
            path = out / f"{solution_py.stem}{suffix}"
            path.write_text(text)
            written.append(path)
    return written


# ---------------------------------------------------------------------------------------------
# What the learner reads


def running_in_ci() -> bool:
    """CI services set CI=true; .ci/run sets it too. Then every difference in chapters/ is a failure."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def shown(path: Path, chapters: Path) -> str:
    """A path as the learner typed it: chapters/03_replay_buffers.py, relative to the course."""
    try:
        return str(path.relative_to(chapters.parent))
    except ValueError:
        return str(path)


def describe_learner_chapter(chapter: LearnerChapter, chapters: Path, *, check: bool) -> list[str]:
    lines = []
    for state in chapter.files:
        name = shown(state.path, chapters)
        if state.state == "unreadable":
            lines.append(
                f"cannot read {name}: {state.reason}. Kept as it is. If you have a copy of your work in the "
                "paired .py or .ipynb file, open that one; to start this chapter afresh, move the file away "
                "and run: make chapters"
            )
        elif chapter.orphan:
            lines.append(
                f"{name} has no solution any more (solutions/{chapter.stem}.py was renamed or removed), and it "
                f"is not a version this script wrote (or {MANIFEST_NAME} has no record of it), so it may hold "
                "your work. Kept as it is: copy your work into the chapter that replaces it, then "
                "`make chapters ARGS=--force` moves it to chapters/.backup/."
            )
        else:
            lines.append(f"{name}: you have edited it. Kept as it is" + (", and not tested" if check else "") + ".")
    if not chapter.orphan:
        todo = (
            "The course has a newer version of this chapter. To get it, run `make chapters ARGS=--force`: "
            "it first moves your copy to chapters/.backup/<date>_<time>/ and says where."
            if chapter.newer_version
            else "To start it afresh, `make chapters ARGS=--force` moves your copy to chapters/.backup/ first."
        )
        lines.append("  " + todo)
    return lines


def counted(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def print_manifest_problem(report: Report, chapters: Path) -> None:
    if report.manifest_problem:
        print(
            f"cannot read {shown(chapters / MANIFEST_NAME, chapters)}: {report.manifest_problem}. Read as if it "
            "were missing: a chapter identical to what solutions/ generate is recognised, any other is kept as "
            "yours. `make chapters` writes a new one.",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--force", action="store_true", help="move edited chapters to chapters/.backup/, then regenerate"
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if chapters/ is stale")
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=running_in_ci(),
        help="with --check, count edited chapters as failures too (default: on when CI is set)",
    )
    parser.add_argument("--fresh", type=Path, metavar="DIR", help="write a fresh generation into DIR, nothing else")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--chapters", type=Path, default=ROOT / "chapters")
    args = parser.parse_args(argv)
    chapters = args.chapters

    try:
        if args.fresh is not None:
            written = write_fresh(args.solutions, args.fresh)
            print(f"wrote a fresh generation of the chapters into {args.fresh} ({len(written)} files)")
            return 0
        report = generate(args.solutions, chapters, force=args.force, check=args.check)
    except (MarkerError, FreshFolderError) as error:
        print(f"make_chapters: {error}", file=sys.stderr)
        return 2

    print_manifest_problem(report, chapters)
    if args.check:
        failed = bool(report.stale)
        for chapter in report.learners:
            print("\n".join(describe_learner_chapter(chapter, chapters, check=True)))
        if report.stale:
            print(
                "chapters/ is out of date for: " + ", ".join(report.stale) + ". Run: make chapters "
                "(it never overwrites a chapter you edited)"
            )
        if args.strict and (report.learners or report.manifest_problem):
            failed = True
            print(
                "strict check (CI): every file in chapters/ must be exactly what solutions/ generate, with a "
                f"readable {MANIFEST_NAME}. Run `make chapters ARGS=--force` and commit chapters/."
            )
        if not failed:
            yours = f"; {counted(len(report.learners), 'holds', 'hold')} your edits" if report.learners else ""
            print(f"chapters/ is up to date ({counted(len(report.unchanged), 'chapter', 'chapters')}{yours}).")
        return 1 if failed else 0

    if report.backed_up:
        folder = shown(report.backed_up[0][1].parent, chapters)
        names = ", ".join(shown(source, chapters) for source, _ in report.backed_up)
        print(f"moved    {names} to {folder}/ (nothing was deleted)")
    for stem in report.written:
        print(f"wrote    chapters/{stem}.py and chapters/{stem}.ipynb")
    for stem in report.orphans_moved:
        print(f"moved    chapters/{stem}: solutions/{stem}.py no longer exists and you had not edited it")
    for chapter in report.learners:
        for line in describe_learner_chapter(chapter, chapters, check=False):
            print(("         " + line.strip()) if line.startswith("  ") else f"skipped  {line}")
    if not (report.written or report.learners or report.orphans_moved):
        print(f"chapters/ is already up to date ({counted(len(report.unchanged), 'chapter', 'chapters')}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
