"""Browser test of the rendered book: built from the committed reference notebooks, and from the published store
(``published/paper/``, or ``$REPRO_STORE``; as ``make publish`` builds it, each page with its provenance box) when
the repository holds one, read in headless Chromium.

The site is built exactly as ``make book`` builds it (``repro.runner.stage_site`` + ``build_site``: Jupyter
Book 1, no execution, ``-W``), but from ``tests/reference/*.ipynb`` instead of freshly executed notebooks, and
served from ``http://127.0.0.1:<free port>``. Every chapter page of ``_toc.yml`` is opened and checked: its
title, its images, the absence of tracebacks, the sidebar links, the maths (MathJax), and that nothing was
fetched from anywhere but the local server.

Needs Debian's ``chromium`` and ``chromium-driver``; skipped when they are missing, except under ``CI=true``
where their absence is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from repro.book import read_toc
from repro.runner import build_site, check_offline, stage_site
from repro.runner.provenance import stage_store

pytestmark = pytest.mark.slow  # a Jupyter Book build and a real browser

REPO = Path(__file__).resolve().parents[1]
TOC = Path(os.environ.get("REPRO_TOC") or REPO / "_toc.yml")  # REPRO_TOC: try another table of contents
REFERENCES = REPO / "tests" / "reference"
STORE = Path(os.environ.get("REPRO_STORE") or REPO / "published" / "paper")  # the published run, when there is one
CHAPTERS = read_toc(TOC)
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _which(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None)
        if found:
            return found
    return None


CHROMIUM = _which("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = _which("chromedriver")
try:
    import selenium  # noqa: F401

    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover - selenium is a dev dependency
    HAVE_SELENIUM = False
MISSING = [
    name
    for name, ok in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER), ("selenium", HAVE_SELENIUM))
    if not ok
]
if MISSING and not IN_CI:
    pytest.skip(
        f"browser test needs {', '.join(MISSING)} (apt-get install chromium chromium-driver); "
        "set CI=true to make this a failure",
        allow_module_level=True,
    )


def _chapter_title(chapter) -> str:
    """The chapter's first ``# `` heading (from its source, else from its reference notebook)."""
    import jupytext

    nb = jupytext.read(chapter.source if chapter.source.is_file() else REFERENCES / f"{chapter.name}.ipynb")
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return re.sub(r"[*`]", "", line[2:]).strip()
    raise AssertionError(f"chapter {chapter.name} has no '# ' title in a markdown cell")


_LOAD_FAILURE = re.compile(r"Failed to load resource|status of [45]\d\d\b")


def _console_failures(messages: list[str]) -> list[str]:
    """The console messages that mean the page is broken: uncaught script errors and failed loads.

    Not counted: the browser's own favicon request, and MathJax 2's font-detection probe of ``about:blank``
    (reported as a failed load or a CORS refusal, depending on the Chromium version), both harmless. A message
    is matched on its text, never on bare numbers, which also occur in the server's port (``127.0.0.1:34045``).
    """
    return [
        message
        for message in messages
        if ("Uncaught" in message or _LOAD_FAILURE.search(message))
        and "favicon.ico" not in message
        and not message.startswith("about:blank")
        and "'about:blank'" not in message
    ]


def test_console_failures_ignores_port_numbers_and_the_mathjax_probe():
    server = "http://127.0.0.1:34045"
    harmless = [
        f'{server}/_static/scripts/pydata-sphinx-theme.js 0:1488 "Got invalid theme mode: . Resetting to auto."',
        f"{server}/book/intro.html - Access to font at 'about:blank' from origin '{server}' has been blocked by CORS",
        "about:blank - Failed to load resource: net::ERR_FAILED",
        f"{server}/favicon.ico - Failed to load resource: the server responded with a status of 404 (Not Found)",
    ]
    broken = [
        f"{server}/_static/x.png - Failed to load resource: the server responded with a status of 404 (Not Found)",
        f"{server}/book/intro.html 12:3 Uncaught TypeError: x is undefined",
    ]
    assert _console_failures(harmless + broken) == broken


@pytest.fixture(scope="module", params=["reference", "store"])
def site(request, tmp_path_factory) -> Path:
    """The site of the reference notebooks (``make book``'s, quick profile) or of the published store
    (``make publish``'s)."""
    tmp = tmp_path_factory.mktemp(f"site-{request.param}")
    if request.param == "store":
        if not (STORE / "manifest.json").is_file():
            pytest.skip(f"no published store at {STORE} (make publish-store)")
        src, _ = stage_store(STORE, toc=TOC, config=TOC.parent / "_config.yml", dest=tmp / "site-src")
    else:
        src = stage_site(REFERENCES, toc=TOC, config=TOC.parent / "_config.yml", dest=tmp / "site-src")
    return build_site(src, html_dir=tmp / "html", log=lambda _msg: None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=site)
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if MISSING:
        pytest.fail(f"CI=true but the browser test cannot run: {', '.join(MISSING)} missing")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_site_loads_nothing_from_the_web(site):
    assert check_offline(site) == []
    assert (site / "index.html").is_file()
    assert (site / "mathjax" / "MathJax.js").is_file()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_for_mathjax(driver) -> dict:
    """Wait until MathJax 2 has typeset the page; report what it did."""
    return driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const report = () => done({
          defined: typeof window.MathJax !== 'undefined' && !!window.MathJax.Hub,
          math: document.querySelectorAll('.math.notranslate').length,
          unprocessed: [...document.querySelectorAll('.math.notranslate')]
              .filter(el => !el.querySelector('script[type^="math/tex"]'))
              .map(el => el.textContent.slice(0, 80)),
          rendered: document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML, .MathJax_SVG')
              .length,
          errors: [...document.querySelectorAll('.MathJax_Error, merror, .merror')].map(el => el.textContent),
          fontWarning: !!document.getElementById('MathJax_Font_Warning'),
        });
        const start = Date.now();
        (function poll() {
          if (window.MathJax && window.MathJax.Hub && window.MathJax.Hub.Queue) {
            window.MathJax.Hub.Queue(report);
          } else if (Date.now() - start > 30000) {
            report();
          } else {
            setTimeout(poll, 100);
          }
        })();
        """
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_chapter_page(chapter, server, browser, request):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = urllib.parse.urljoin(server, f"{chapter.docname}.html")
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")

    # the page is the chapter's (Sphinx typesets straight apostrophes as curly ones)
    title = _chapter_title(chapter)
    page_title = browser.title.replace("\u2019", "'")
    assert title in page_title, f"{url}: title {browser.title!r} does not contain {title!r}"

    # a page built from the published store says which run it shows
    if request.node.callspec.params.get("site") == "store":
        box = browser.find_elements(By.CSS_SELECTOR, ".admonition .admonition-title")
        assert any(e.text.startswith(("Published run: profile", "Not in the published run")) for e in box), (
            f"{url} has no provenance box"
        )

    # no Python error made it into the page
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Traceback (most recent call last)" not in body, f"{url} shows a Python traceback"
    errors = browser.find_elements(
        By.CSS_SELECTOR, ".output.traceback, .output.error, .cell_output .traceback"
    )
    assert not errors, f"{url} shows {len(errors)} error output(s): {errors[0].text[:300]}"

    # every image decoded
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("return [...document.images].every(img => img.complete)")
    )
    broken = browser.execute_script(
        "return [...document.images].filter(img => !(img.naturalWidth > 0)).map(img => img.src)"
    )
    assert not broken, f"{url}: images that did not decode: {broken}"

    # every table-of-contents link in the sidebar resolves, and every chapter is listed there
    links = browser.execute_script(
        "return [...document.querySelectorAll('.bd-sidebar-primary a.reference.internal, "
        "#bd-docs-nav a.reference.internal')].map(a => a.href)"
    )
    assert links, f"{url}: no table-of-contents links found in the sidebar"
    targets = {urllib.parse.urldefrag(link)[0] for link in links}
    for target in sorted(targets):
        assert _status(target) == 200, f"{url}: sidebar link {target} does not resolve"
    for other in CHAPTERS:
        assert urllib.parse.urljoin(server, f"{other.docname}.html") in targets, (
            f"{url}: the sidebar does not link to chapter {other.name}"
        )

    # the maths was typeset by the local MathJax
    # (Sphinx marks maths `.math.notranslate`; MathJax's own output uses `.math` too)
    if browser.execute_script("return document.querySelectorAll('.math.notranslate').length") > 0:
        mathjax = _wait_for_mathjax(browser)
        assert mathjax["defined"], f"{url} has maths but MathJax did not load"
        assert not mathjax["unprocessed"], f"{url}: maths left untypeset: {mathjax['unprocessed'][:3]}"
        assert mathjax["rendered"] > 0, f"{url}: MathJax rendered nothing"
        assert not mathjax["errors"], f"{url}: MathJax errors: {mathjax['errors'][:3]}"
        assert not mathjax["fontWarning"], f"{url}: MathJax could not load its web fonts"
        if os.environ.get("REPRO_SITE_SCREENSHOTS"):
            browser.save_screenshot(str(Path(os.environ["REPRO_SITE_SCREENSHOTS"]) / f"{chapter.name}.png"))

    # nothing came from anywhere but the local server
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    foreign = [name for name in fetched if not name.startswith(server) and not name.startswith("data:")]
    assert not foreign, f"{url} fetched resources from outside the site: {foreign}"

    # no script error and no failed load (scripts, fonts, images) in the console
    severe = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    failures = _console_failures(severe)
    assert not failures, f"{url}: console errors: {failures}"
