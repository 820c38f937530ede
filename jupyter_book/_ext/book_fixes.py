"""Sphinx fixes for this book, loaded by ``_config.yml`` (``local_extensions``).

sphinx-thebe and sphinx-togglebutton register their inline scripts twice under Jupyter Book 1 (once
with no file name, once with an empty one, so Sphinx does not see the repeat), and the second copy
fails in the browser: ``THEBE_JS_URL`` has already been declared. Each page keeps the first.

MathJax 3 cannot break a display equation into lines, so one wider than the column is scaled down
to fit it once typeset (and again when the window's width changes), instead of being cut.

The chapters cite by author and year in plain text ("Schaul et al. 2016"), which reads well in
JupyterLab, where a ``{cite}`` role would show as markup. In the book each such citation becomes a link
to its entry on the bibliography page (anchors ``cite-<key>``, set by ``bibtex_cite_id``), for every
entry of ``references.bib``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

BIBLIOGRAPHY = Path(__file__).resolve().parents[1] / "references.bib"
NO_LINKS_INSIDE = ("a", "code", "pre", "script", "style", "mjx-container", "span class=\"math")


def drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", script) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


FIT_WIDE_EQUATIONS = """
document.addEventListener("DOMContentLoaded", () => {
  if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return;
  const fit = () => document.querySelectorAll('mjx-container[display="true"]').forEach(equation => {
    equation.style.fontSize = "";
    const ratio = equation.clientWidth / equation.scrollWidth;
    if (ratio < 1) {
      const size = parseFloat(getComputedStyle(equation).fontSize);
      equation.style.fontSize = `${Math.floor(size * ratio * 10) / 10}px`;
    }
  });
  MathJax.startup.promise.then(() => { fit(); window.addEventListener("resize", fit); });
});
"""


def bibliography_entries(path: Path = BIBLIOGRAPHY) -> dict[str, tuple[str, str]]:
    """``{key: (first author's surname, year)}`` for every entry of a BibTeX file."""
    entries = {}
    for match in re.finditer(r"@\w+\{([^,]+),(.*?)\n\}", path.read_text(encoding="utf-8"), re.S):
        key, fields = match.group(1).strip(), match.group(2)
        author = re.search(r"author\s*=\s*\{(.*?)\},?\s*\n", fields, re.S)
        year = re.search(r"year\s*=\s*\{?(\d{4})", fields)
        if author and year:
            surname = author.group(1).split(" and ")[0].split(",")[0].strip().strip("{}")
            entries[key] = (surname, year.group(1))
    return entries


def citation_pattern(surname: str, year: str) -> re.Pattern:
    """"Surname 2016", "Surname et al. 2016", "Surname & Other (2016)", "Surname, Other & Third 2016"."""
    name = r"[A-Z][\w'-]+"
    return re.compile(
        rf"(?<![\w>]){re.escape(surname)}(?:,\s+{name})*(?:\s+et\s+al\.|\s+(?:and|&amp;|&)\s+{name})?,?"
        rf"\s+(?:\({year}\)|{year}(?!\d))"
    )


def link_citations(body: str, href: str, entries: dict[str, tuple[str, str]]) -> str:
    """Wrap each author-year citation in ``body`` (HTML) in a link to ``href#cite-<key>``, outside links,
    code and equations."""
    patterns = [(key, citation_pattern(surname, year)) for key, (surname, year) in entries.items()]
    pieces, depth, skipping = [], 0, None
    for piece in re.split(r"(<[^>]+>)", body):
        if piece.startswith("<"):
            opening = next((tag for tag in NO_LINKS_INSIDE if piece.startswith(f"<{tag}")), None)
            if skipping is None and opening:
                skipping, depth = opening.split()[0], 1
            elif skipping and piece.startswith(f"<{skipping}"):
                depth += 1
            elif skipping and piece.startswith(f"</{skipping}"):
                depth -= 1
                skipping = None if depth == 0 else skipping
            pieces.append(piece)
            continue
        if skipping is None:
            for key, pattern in patterns:
                piece = pattern.sub(
                    lambda m, key=key: f'<a class="reference internal citation-link" '
                    f'href="{html.escape(href)}#cite-{key}">{m.group(0)}</a>',
                    piece,
                )
        pieces.append(piece)
    return "".join(pieces)


def link_page_citations(app, pagename, templatename, context, doctree) -> None:
    if pagename == "references" or "body" not in context:
        return
    href = app.builder.get_relative_uri(pagename, "references")
    context["body"] = link_citations(context["body"], href, bibliography_entries())


def setup(app):
    app.connect("html-page-context", drop_repeated_scripts)
    app.connect("html-page-context", link_page_citations)
    app.add_js_file(None, body=FIT_WIDE_EQUATIONS)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
