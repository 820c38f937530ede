"""The built book as a reader meets it, in headless Chromium (``make test-browser``).

Serves ``jupyter_book/_build/html`` on 127.0.0.1, opens every chapter page at 1280 px, and checks
what a reader would notice: equations typeset (offline), no console errors, solutions folded until
clicked, animations that play, code that fits its column, and a download that is the learner's
notebook. Screenshots go to ``jupyter_book/_build/screenshots``.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them), so ``make test``
leaves it out (marker ``browser``).
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tools.make_chapters import chapter_texts  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "jupyter_book" / "_build" / "html"
SCREENSHOTS = ROOT / "jupyter_book" / "_build" / "screenshots"
CHAPTERS = sorted(path.stem for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1280, 900
CELL = "./ancestor::div[contains(concat(' ', @class, ' '), ' cell ')][1]"  # the notebook cell around an element


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="session")
def site() -> str:
    """The built book on 127.0.0.1 (a free port), for as long as the session runs."""
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built book in {SITE}: run make book (make test-browser does)")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    for program in (CHROMIUM, CHROMEDRIVER):
        if not Path(program).exists():
            pytest.fail(f"{program} is missing: apt-get install -y chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # The flags that keep Chromium from calling out of a machine without a network, and from needing
    # a sandbox when it runs as root (as in CI).
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def opened(site, browser):
    """Open a page (a path under the site), wait for MathJax, return its console messages."""

    def open_page(path: str) -> list[dict]:
        browser.get_log("browser")  # drop what an earlier page left
        browser.get(f"{site}/{path}")
        WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
        browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "if (!window.MathJax || !MathJax.startup) { done(null); return; }"
            "MathJax.startup.promise.then(() => done(null), error => done(String(error)));"
        )
        return browser.get_log("browser")

    return open_page


def has_math(chapter: str) -> bool:
    """Whether the chapter's text has an equation (some chapters have none)."""
    notebook = json.loads((ROOT / "solutions" / f"{chapter}.ipynb").read_text())
    text = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    return "$" in text or "\\begin{" in text


def cells(notebook: dict) -> list[tuple[str, str]]:
    return [(cell["cell_type"], "".join(cell["source"])) for cell in notebook["cells"]]


def save(element_or_driver, name: str) -> None:
    """A screenshot of one element, or of the window."""
    path = str(SCREENSHOTS / f"{name}.png")
    if hasattr(element_or_driver, "save_screenshot"):
        element_or_driver.save_screenshot(path)
    else:
        element_or_driver.screenshot(path)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page(chapter, browser, opened, site):
    console = opened(f"chapters/{chapter}.html")
    save(browser, f"{chapter}-page-top")

    errors = [entry["message"] for entry in console if entry["level"] == "SEVERE"]
    assert errors == [], f"console errors on {chapter}: {errors}"

    # Equations: typeset by the vendored MathJax, none left as TeX source or shown as a TeX error.
    raw = browser.execute_script(
        "const article = document.querySelector('article').cloneNode(true);"
        "article.querySelectorAll('pre, code, mjx-container').forEach(e => e.remove());"
        "return article.innerText;"
    )
    for delimiter in ("\\(", "\\[", "$$"):
        assert delimiter not in raw, f"{chapter}: TeX left untypeset near {raw[raw.index(delimiter) - 40:][:120]!r}"
    equations = browser.find_elements(By.CSS_SELECTOR, "article mjx-container")
    assert equations or not has_math(chapter), f"{chapter} shows no typeset equation"
    assert not browser.find_elements(By.CSS_SELECTOR, "mjx-merror"), f"{chapter}: MathJax could not parse an equation"
    display = [e for e in equations if e.get_attribute("display") == "true"]
    if display:
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", display[0])
        save(display[0], f"{chapter}-equation")

    # Nothing scrolls sideways: code, outputs and display equations fit the article's column.
    too_wide = browser.execute_script(
        "const column = document.querySelector('article').clientWidth;"
        "const wide = [];"
        "document.querySelectorAll('article pre, article mjx-container[display=\"true\"]').forEach(e => {"
        "  if (e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().width > column + 1)"
        "    wide.push(e.innerText.split('\\n').reduce((a, b) => a.length >= b.length ? a : b, '').slice(0, 100));"
        "});"
        "return wide;"
    )
    assert too_wide == [], f"{chapter}: {len(too_wide)} blocks are wider than the column, e.g. {too_wide[:3]}"

    # Solutions: folded when the page opens, unfolded by a click on "Show solution".
    folds = browser.find_elements(By.CSS_SELECTOR, "details.hide.above-input")
    assert folds, f"{chapter} has no folded solution"
    for index, fold in enumerate(folds):
        code = fold.find_element(By.CSS_SELECTOR, "div.cell_input")
        assert fold.get_attribute("open") is None and not code.is_displayed(), f"{chapter}: solution {index} is open"
        summary = fold.find_element(By.TAG_NAME, "summary")
        assert "Show solution" in summary.text
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", fold)
        if index == 0:
            save(fold.find_element(By.XPATH, CELL), f"{chapter}-solution-folded")
        summary.click()
        WebDriverWait(browser, 5).until(lambda _: code.is_displayed())
        assert "Hide solution" in summary.text
        if index == 0:
            save(fold.find_element(By.XPATH, CELL), f"{chapter}-solution-unfolded")

    # Animations: Play moves the frame slider on.
    for index, animation in enumerate(browser.find_elements(By.CSS_SELECTOR, "div.animation")):
        slider = animation.find_element(By.CSS_SELECTOR, "input[type=range]")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", animation)
        animation.find_element(By.CSS_SELECTOR, "button[title='First frame']").click()
        start = int(slider.get_attribute("value"))
        animation.find_element(By.CSS_SELECTOR, "button[title='Play']").click()
        WebDriverWait(browser, 5).until(lambda _: int(slider.get_attribute("value")) > start + 2)
        animation.find_element(By.CSS_SELECTOR, "button[title='Pause']").click()
        save(animation, f"{chapter}-animation-{index}")

    # No interact() return value or other bare function repr left on the page.
    assert "<function " not in browser.find_element(By.TAG_NAME, "article").text

    # The download hands out the learner's notebook: the exercises left open, no solution.
    links = browser.find_elements(By.CSS_SELECTOR, "article a.download")
    assert [link.get_attribute("href").rsplit("/", 1)[-1] for link in links] == [f"{chapter}.ipynb"]
    with urllib.request.urlopen(links[0].get_attribute("href")) as response:
        downloaded = response.read()
    # What make chapters writes from the solution (the files in chapters/ may hold a learner's edits).
    learner = json.loads(chapter_texts(ROOT / "solutions" / f"{chapter}.py")[1][".ipynb"])
    assert cells(json.loads(downloaded)) == cells(learner), "the download is the learner's notebook"
    assert "BEGIN SOLUTION" not in downloaded.decode() and "YOUR CODE HERE" in downloaded.decode()
    # ...and the header offers no other notebook (the book page's has the answers inline): the only
    # other notebook links are the launch buttons, which open the learner's chapter in Binder or Colab.
    others = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href$='.ipynb']:not(.download)")]
    launches = [href for href in others if href.startswith(("https://mybinder.org/", "https://colab.research.google.com/"))]
    assert others == launches, f"notebook links other than the download and the launch buttons: {others}"
    assert all(href.endswith(f"chapters/{chapter}.ipynb") for href in launches), f"a launch button opens another notebook: {launches}"


def test_widget_is_shown_as_its_figure_with_a_pointer_to_the_lab(browser, opened):
    opened("chapters/01_q_tables.html")
    notes = [n for n in browser.find_elements(By.CSS_SELECTOR, "article .widget-in-the-lab") if n.is_displayed()]
    assert len(notes) == 1, "chapter 01's widget cell says where its sliders are"
    cell = notes[0].find_element(By.XPATH, CELL)
    assert cell.find_element(By.CSS_SELECTOR, "div.cell_input").is_displayed(), "the interact() call is shown"
    above = cell.find_element(By.XPATH, "./preceding-sibling::div[contains(concat(' ', @class, ' '), ' cell ')][1]")
    figure = above.find_elements(By.CSS_SELECTOR, "div.cell_output img")
    assert figure and int(figure[0].get_attribute("naturalWidth")) > 0, "the figure of the default knobs is above"
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", figure[0])
    save(browser, "01_q_tables-widget")


def test_one_search_box_and_no_header_download(browser, opened):
    opened("chapters/00_jax_for_rl.html")
    boxes = [box for box in browser.find_elements(By.CSS_SELECTOR, "input[type=search], .search-button-field")
             if box.is_displayed()]
    assert len(boxes) == 1, f"{len(boxes)} search boxes are shown"
    assert not browser.find_elements(By.CSS_SELECTOR, ".btn-download, .dropdown-download-buttons")


def test_animation_controls_fit_a_phone(browser, opened):
    browser.set_window_size(390, 844)
    try:
        opened("chapters/04_cartpole_in_jax.html")
        animation = browser.find_element(By.CSS_SELECTOR, "div.animation")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", animation)
        overflow = browser.execute_script(
            "const box = arguments[0].getBoundingClientRect();"
            "return [...arguments[0].querySelectorAll('button, input')]"
            "  .filter(e => e.getBoundingClientRect().right > Math.min(box.right, window.innerWidth) + 1).length;",
            animation,
        )
        save(browser, "04_cartpole_in_jax-phone")
        assert overflow == 0, f"{overflow} animation controls stick out at 390 px"
    finally:
        browser.set_window_size(WIDTH, HEIGHT)


def test_citations_link_to_their_bibliography_entries(browser, opened):
    """Every chapter's author-year citations are links, and each leads to an entry that exists."""
    targets = set()
    for chapter in CHAPTERS:
        opened(f"chapters/{chapter}.html")
        links = browser.find_elements(By.CSS_SELECTOR, "article a.citation-link")
        assert links, f"{chapter}: no citation is linked to the bibliography"
        targets |= {link.get_attribute("href").split("#", 1)[1] for link in links}
    opened("references.html")
    missing = [target for target in sorted(targets) if not browser.find_elements(By.ID, target)]
    assert not missing, f"citations link to entries the bibliography page does not have: {missing}"
