"""The book links the chapters' author-year citations to their bibliography entries."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("book_fixes", ROOT / "jupyter_book" / "_ext" / "book_fixes.py")
book_fixes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(book_fixes)

ENTRIES = book_fixes.bibliography_entries()


def test_every_bibliography_entry_has_a_first_author_and_a_year():
    assert len(ENTRIES) >= 19
    assert ENTRIES["vanhasselt2016"] == ("van Hasselt", "2016")
    assert ENTRIES["barto1983"] == ("Barto", "1983")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("(Schaul et al. 2016)", "schaul2016"),
        ("Sutton &amp; Barto (2018)", "sutton2018"),
        ("Barto, Sutton &amp; Anderson 1983", "barto1983"),
        ("van Hasselt 2010", "vanhasselt2010"),
        ("Schulman et al.\n2015", "schulman2015gae"),
        ("Schulman et al. 2017", "schulman2017ppo"),
    ],
)
def test_a_citation_becomes_a_link_to_its_entry(text, key):
    linked = book_fixes.link_citations(f"<p>{text}</p>", "../references.html", ENTRIES)
    assert f'href="../references.html#cite-{key}"' in linked
    assert linked.count("<a ") == 1


@pytest.mark.parametrize(
    "html",
    [
        "<p><code>Lin 1992</code></p>",
        '<p><a href="x">Mnih et al. 2015</a></p>',
        '<p><span class="math notranslate">Lin <span>1992</span></span></p>',
        "<pre>Schaul et al. 2016</pre>",
        "<p>Schaul et al. 2017</p>",  # another year: not this entry
        "<p>in 2016 Schaul said</p>",
    ],
)
def test_no_link_inside_code_links_or_equations_or_for_another_year(html):
    assert book_fixes.link_citations(html, "../references.html", ENTRIES) == html


def test_the_chapters_cite_only_works_in_the_bibliography():
    """Every 'Author et al. year' in a chapter names an entry, so every citation gets its link."""
    import re

    cited = set()
    for path in sorted((ROOT / "solutions").glob("*.py")):
        text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8").replace("# ", " "))
        cited |= set(re.findall(r"([A-Z][a-z]+) et al\. \(?((?:19|20)\d\d)", text))
    known = set(ENTRIES.values())
    assert cited and cited <= known, f"cited but not in references.bib: {sorted(cited - known)}"
