"""Sphinx fixes for this book, loaded by ``_config.yml`` (``local_extensions``).

sphinx-thebe and sphinx-togglebutton register their inline scripts twice under Jupyter Book 1 (once
with no file name, once with an empty one, so Sphinx does not see the repeat), and the second copy
fails in the browser: ``THEBE_JS_URL`` has already been declared. Each page keeps the first.

MathJax 3 cannot break a display equation into lines, so one wider than the column is scaled down
to fit it once typeset (and again when the window's width changes), instead of being cut.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", drop_repeated_scripts)
    app.add_js_file(None, body=FIT_WIDE_EQUATIONS)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
