"""A learner's work survives every command the course tells them to run (issue 20).

Each test plays one scenario on a tiny course in tmp_path: a learner edits, runs, or breaks a chapter,
the author changes solutions/, and then `make chapters`, `make chapters ARGS=--force`, `make test`'s
check or `make book` runs. The real chapters/ is never touched.
"""

import json
from pathlib import Path

import jupytext
import nbformat
import pytest

from tools import book_notebooks, make_chapters
from tools.make_chapters import MANIFEST_NAME, FreshFolderError, chapter_texts, fingerprint, generate, write_fresh

SOLUTION_PY = """\
# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 99 · A tiny chapter

# %%
def double(x):
    ### BEGIN SOLUTION: return twice x
    return 2 * x
    ### END SOLUTION


# %% tags=["nbval-ignore-output"]
print("after the exercise")
"""
PLACEHOLDER = 'raise NotImplementedError("Exercise not started: replace this line with your code")'
LEARNER_ANSWER = "return x + x  # my answer"


@pytest.fixture
def course(tmp_path: Path):
    solutions, chapters = tmp_path / "solutions", tmp_path / "chapters"
    solutions.mkdir()
    (solutions / "99_tiny.py").write_text(SOLUTION_PY)
    generate(solutions, chapters)
    return solutions, chapters


def run(solutions: Path, chapters: Path, *arguments: str) -> int:
    return make_chapters.main([*arguments, "--solutions", str(solutions), "--chapters", str(chapters)])


def answer_in_lab(chapters: Path, stem: str = "99_tiny") -> None:
    """What JupyterLab with jupytext pairing saves: both files, the answer in, the notebook run."""
    notebook = nbformat.read(chapters / f"{stem}.ipynb", as_version=4)
    notebook.cells[1].source = notebook.cells[1].source.replace(PLACEHOLDER, LEARNER_ANSWER)
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="after the exercise\n")]
    nbformat.write(notebook, chapters / f"{stem}.ipynb")
    jupytext.write(notebook, chapters / f"{stem}.py", fmt="py:percent")


def author_changes_the_solution(solutions: Path, text: str = "changed by the author") -> None:
    (solutions / "99_tiny.py").write_text(SOLUTION_PY.replace("after the exercise", text))


def backups(chapters: Path) -> list[Path]:
    return sorted((chapters / ".backup").glob("*/*"))


# --- --force backs up, never deletes ---------------------------------------------------------


def test_force_moves_both_edited_files_to_a_dated_backup_and_says_where(course, capsys):
    solutions, chapters = course
    answer_in_lab(chapters)
    learner_py, learner_ipynb = (chapters / "99_tiny.py").read_text(), (chapters / "99_tiny.ipynb").read_text()
    author_changes_the_solution(solutions)

    assert run(solutions, chapters, "--force") == 0

    saved = backups(chapters)
    assert [path.name for path in saved] == ["99_tiny.ipynb", "99_tiny.py"]
    assert saved[1].read_text() == learner_py and saved[0].read_text() == learner_ipynb  # code and outputs
    out = capsys.readouterr().out
    assert f"chapters/.backup/{saved[0].parent.name}/" in out and "chapters/99_tiny.py" in out
    assert "changed by the author" in (chapters / "99_tiny.py").read_text()
    assert LEARNER_ANSWER not in (chapters / "99_tiny.py").read_text()


def test_two_forced_runs_in_one_second_keep_both_backups(course):
    solutions, chapters = course
    for attempt in ("first", "second"):
        answer_in_lab(chapters)
        (chapters / "99_tiny.py").write_text((chapters / "99_tiny.py").read_text() + f"\n# %%\n{attempt} = 1\n")
        generate(solutions, chapters, force=True)
    saved = [path.read_text() for path in backups(chapters) if path.suffix == ".py"]
    assert len(saved) == 2
    assert any("first = 1" in text for text in saved) and any("second = 1" in text for text in saved)


def test_force_backs_up_nothing_when_nothing_was_edited(course):
    solutions, chapters = course
    author_changes_the_solution(solutions)
    report = generate(solutions, chapters, force=True)
    assert report.written == ["99_tiny"] and report.backed_up == [] and backups(chapters) == []


# --- make test: a learner's edits are not author drift ---------------------------------------


def test_check_names_an_edited_chapter_says_what_to_do_and_passes(course, capsys):
    solutions, chapters = course
    answer_in_lab(chapters)
    author_changes_the_solution(solutions)

    assert run(solutions, chapters, "--check", "--no-strict") == 0

    out = capsys.readouterr().out
    assert "chapters/99_tiny.py: you have edited it" in out and "chapters/99_tiny.ipynb: you have edited it" in out
    assert "newer version" in out and "make chapters ARGS=--force" in out and "chapters/.backup/" in out
    assert "out of date" not in out


def test_check_fails_on_author_drift_in_an_untouched_chapter(course, capsys):
    solutions, chapters = course
    author_changes_the_solution(solutions)
    assert run(solutions, chapters, "--check", "--no-strict") == 1
    assert "out of date for: 99_tiny. Run: make chapters" in capsys.readouterr().out


def test_ci_fails_on_a_committed_chapter_that_solutions_do_not_generate(course, monkeypatch, capsys):
    """A clean clone in CI: an author's hand edit in chapters/ looks like a learner's, and still fails."""
    solutions, chapters = course
    text = (chapters / "99_tiny.py").read_text()
    (chapters / "99_tiny.py").write_text(text.replace("after the exercise", "typed into chapters/ by hand"))
    monkeypatch.setenv("CI", "true")
    assert run(solutions, chapters, "--check") == 1
    assert "strict check (CI)" in capsys.readouterr().out
    monkeypatch.setenv("CI", "")
    assert run(solutions, chapters, "--check") == 0


def test_make_test_runs_a_fresh_generation_not_the_learners_files(course, tmp_path):
    solutions, chapters = course
    answer_in_lab(chapters)
    fresh = tmp_path / "fresh"
    (fresh).mkdir()
    (fresh / "98_renamed_away.ipynb").write_text("{}")  # an earlier generation's chapter is removed

    assert run(solutions, chapters, "--fresh", str(fresh)) == 0

    assert sorted(path.name for path in fresh.iterdir()) == ["99_tiny.ipynb", "99_tiny.py"]
    generated, texts = chapter_texts(solutions / "99_tiny.py")
    assert (fresh / "99_tiny.py").read_text() == texts[".py"] and PLACEHOLDER in texts[".py"]
    assert fingerprint(jupytext.read(fresh / "99_tiny.ipynb")) == fingerprint(generated)  # cell ids are random


def test_fresh_refuses_a_learners_chapters_folder(course):
    solutions, chapters = course
    answer_in_lab(chapters)
    with pytest.raises(FreshFolderError, match="holds a learner's chapters"):
        write_fresh(solutions, chapters)
    assert LEARNER_ANSWER in (chapters / "99_tiny.py").read_text()
    assert run(solutions, chapters, "--fresh", str(chapters)) == 2


# --- make book ---------------------------------------------------------------------------------


def test_book_downloads_are_generated_not_the_learners_chapters(course, tmp_path, monkeypatch):
    solutions, chapters = course
    executed = jupytext.read(solutions / "99_tiny.py")
    nbformat.write(executed, solutions / "99_tiny.ipynb")
    answer_in_lab(chapters)
    monkeypatch.setattr(book_notebooks, "ROOT", tmp_path)  # tmp_path holds solutions/ and chapters/

    book_notebooks.write_pages(tmp_path / "pages")

    download = tmp_path / "pages" / "downloads" / "99_tiny.ipynb"
    offered = nbformat.read(download, as_version=4)
    code = "\n".join(cell.source for cell in offered.cells)
    assert LEARNER_ANSWER not in code and PLACEHOLDER in code
    assert fingerprint(offered) == fingerprint(chapter_texts(solutions / "99_tiny.py")[0])
    assert all(not cell.get("outputs") for cell in offered.cells)


# --- files that cannot be read -----------------------------------------------------------------


def test_a_corrupt_manifest_is_named_with_what_to_do_and_work_is_kept(course, capsys):
    solutions, chapters = course
    answer_in_lab(chapters)
    (chapters / MANIFEST_NAME).write_text('{"format": 2, "chapters": {"99_ti')  # cut short
    author_changes_the_solution(solutions)

    assert run(solutions, chapters) == 0

    err = capsys.readouterr().err
    assert f"cannot read chapters/{MANIFEST_NAME}" in err and "not complete JSON" in err and "writes a new one" in err
    assert LEARNER_ANSWER in (chapters / "99_tiny.py").read_text()
    assert json.loads((chapters / MANIFEST_NAME).read_text())["format"] == 2  # rewritten, readable again


def test_a_manifest_of_the_wrong_shape_is_named_in_the_check(course, capsys):
    solutions, chapters = course
    (chapters / MANIFEST_NAME).write_text("[1, 2, 3]\n")
    assert run(solutions, chapters, "--check", "--no-strict") == 1  # the manifest no longer vouches: make chapters
    assert f"cannot read chapters/{MANIFEST_NAME}: its content is not" in capsys.readouterr().err
    assert run(solutions, chapters) == 0
    assert run(solutions, chapters, "--check", "--no-strict") == 0


def test_a_truncated_notebook_is_named_and_kept(course, capsys):
    solutions, chapters = course
    answer_in_lab(chapters)
    cut = (chapters / "99_tiny.ipynb").read_text()[:300]
    (chapters / "99_tiny.ipynb").write_text(cut)  # a crash during save
    author_changes_the_solution(solutions)

    assert run(solutions, chapters) == 0
    out = capsys.readouterr().out
    assert "cannot read chapters/99_tiny.ipynb: it is not complete JSON" in out and "move the file away" in out
    assert (chapters / "99_tiny.ipynb").read_text() == cut
    assert LEARNER_ANSWER in (chapters / "99_tiny.py").read_text()

    assert run(solutions, chapters, "--check", "--no-strict") == 0
    assert "cannot read chapters/99_tiny.ipynb" in capsys.readouterr().out

    generate(solutions, chapters, force=True)
    assert [path.read_text() for path in backups(chapters) if path.suffix == ".ipynb"] == [cut]


# --- no false "you have edited it" ----------------------------------------------------------


def test_without_a_manifest_an_unedited_chapter_is_recognised(course, capsys):
    solutions, chapters = course
    notebook = nbformat.read(chapters / "99_tiny.ipynb", as_version=4)
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="after the exercise\n")]
    nbformat.write(notebook, chapters / "99_tiny.ipynb")  # run, not edited
    (chapters / MANIFEST_NAME).unlink()

    assert run(solutions, chapters) == 0

    out = capsys.readouterr().out
    assert "edited" not in out and "skipped" not in out
    assert nbformat.read(chapters / "99_tiny.ipynb", as_version=4).cells[2].outputs  # outputs kept: nothing rewritten
    assert run(solutions, chapters, "--check", "--no-strict") == 0
    author_changes_the_solution(solutions)
    assert generate(solutions, chapters).written == ["99_tiny"]


def test_an_old_copy_saved_again_by_an_open_lab_tab_is_regenerated(course):
    """The tab was opened on version 1; make chapters wrote version 2; the tab's autosave wrote version 1 back."""
    solutions, chapters = course
    open_tab = nbformat.read(chapters / "99_tiny.ipynb", as_version=4)
    open_tab.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="after the exercise\n")]
    open_tab.cells[2].metadata["execution"] = {"iopub.status.busy": "2025-01-01T00:00:00Z"}  # Lab's timing
    author_changes_the_solution(solutions, "version 2")
    assert generate(solutions, chapters).written == ["99_tiny"]
    nbformat.write(open_tab, chapters / "99_tiny.ipynb")
    jupytext.write(open_tab, chapters / "99_tiny.py", fmt="py:percent")

    check = generate(solutions, chapters, check=True)
    assert check.stale == ["99_tiny"] and check.learners == []  # author drift, not "you have edited it"
    report = generate(solutions, chapters)
    assert report.written == ["99_tiny"] and report.skipped == []
    assert "version 2" in (chapters / "99_tiny.py").read_text()


def test_a_manifest_from_before_tags_counted_still_vouches_for_its_chapters(course):
    """Manifests written by the earlier generator (stem -> text-only fingerprint) keep working."""
    solutions, chapters = course
    notebook, _ = chapter_texts(solutions / "99_tiny.py")
    (chapters / MANIFEST_NAME).write_text(json.dumps({"99_tiny": make_chapters.text_fingerprint(notebook)}))
    assert generate(solutions, chapters, check=True).stale == []
    assert generate(solutions, chapters).unchanged == ["99_tiny"]
    upgraded = json.loads((chapters / MANIFEST_NAME).read_text())
    assert upgraded["chapters"] == {"99_tiny": [fingerprint(notebook)]} and "99_tiny" in upgraded["text-only"]
    author_changes_the_solution(solutions)
    assert generate(solutions, chapters).written == ["99_tiny"]  # recognised as generated, not as an edit


# --- orphans ---------------------------------------------------------------------------------


def test_an_edited_orphan_is_named_by_make_chapters_and_by_check(course, capsys):
    solutions, chapters = course
    answer_in_lab(chapters)
    (solutions / "99_tiny.py").rename(solutions / "98_tiny_renamed.py")

    assert run(solutions, chapters) == 0
    out = capsys.readouterr().out
    assert "chapters/99_tiny.py has no solution any more (solutions/99_tiny.py was renamed or removed)" in out
    assert LEARNER_ANSWER in (chapters / "99_tiny.py").read_text()
    assert (chapters / "98_tiny_renamed.py").exists()

    assert run(solutions, chapters, "--check", "--no-strict") == 0
    assert "chapters/99_tiny.ipynb has no solution any more" in capsys.readouterr().out
    assert run(solutions, chapters, "--check", "--strict") == 1

    generate(solutions, chapters, force=True)
    assert not (chapters / "99_tiny.py").exists() and LEARNER_ANSWER in backups(chapters)[-1].read_text()


def test_an_unedited_orphan_fails_the_check_and_is_moved_away(course, capsys):
    solutions, chapters = course
    (solutions / "99_tiny.py").unlink()
    assert run(solutions, chapters, "--check", "--no-strict") == 1
    assert "out of date for: 99_tiny" in capsys.readouterr().out
    assert run(solutions, chapters) == 0
    assert "chapters/99_tiny: solutions/99_tiny.py no longer exists" in capsys.readouterr().out
    assert [path.name for path in backups(chapters)] == ["99_tiny.ipynb", "99_tiny.py"]
    assert "99_tiny" not in json.loads((chapters / MANIFEST_NAME).read_text())["chapters"]
    assert run(solutions, chapters, "--check", "--no-strict") == 0


# --- tags and metadata are part of the learner's work ------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda cell: cell.metadata.update(tags=["nbval-ignore-output", "my-tag"]), id="tag added"),
        pytest.param(lambda cell: cell.metadata.pop("tags"), id="tag removed"),
        pytest.param(lambda cell: cell.metadata.update(slideshow={"slide_type": "slide"}), id="metadata added"),
    ],
)
def test_a_changed_tag_or_metadata_is_an_edit(course, change):
    solutions, chapters = course
    notebook = nbformat.read(chapters / "99_tiny.ipynb", as_version=4)
    change(notebook.cells[2])
    nbformat.write(notebook, chapters / "99_tiny.ipynb")
    jupytext.write(notebook, chapters / "99_tiny.py", fmt="py:percent")
    author_changes_the_solution(solutions)
    report = generate(solutions, chapters)
    assert report.skipped == ["99_tiny.py", "99_tiny.ipynb"] and not report.written
    assert nbformat.read(chapters / "99_tiny.ipynb", as_version=4).cells[2].metadata == notebook.cells[2].metadata


def test_a_tag_changed_in_the_py_file_alone_is_an_edit(course):
    solutions, chapters = course
    text = (chapters / "99_tiny.py").read_text()
    (chapters / "99_tiny.py").write_text(text.replace('tags=["nbval-ignore-output"]', 'tags=["my-tag"]'))
    author_changes_the_solution(solutions)
    assert generate(solutions, chapters).skipped == ["99_tiny.py"]


def test_what_running_and_viewing_write_into_metadata_is_not_an_edit(course):
    solutions, chapters = course
    notebook = nbformat.read(chapters / "99_tiny.ipynb", as_version=4)
    notebook.cells[1].metadata.update(
        execution={"iopub.execute_input": "2025-01-01T00:00:00Z"}, collapsed=True, scrolled=True, tags=[]
    )
    notebook.cells[2].metadata["jupyter"] = {"outputs_hidden": True}
    nbformat.write(notebook, chapters / "99_tiny.ipynb")
    author_changes_the_solution(solutions)
    report = generate(solutions, chapters)
    assert report.written == ["99_tiny"] and report.skipped == []
