"""The built book in a real browser (headless Chromium driven by Selenium, fully offline).

The book is built from the committed, executed notebooks (``execute_notebooks: off``), unless this
test's last build is newer than every source (Sphinx rebuilds incrementally anyway); it is served
on 127.0.0.1 and every page of ``_toc.yml`` is opened. A page passes when

* no cell shows an error: no traceback output (nor one printed to stdout), no docutils system
  message, and no stderr output unless every line of it is a tqdm progress bar
  (``desc: 42%|####| 21/50 [00:01<00:02, 9.8it/s]``); a warning printed to stderr is an error;
* no ``assert`` statement is visible (checks sit in cells whose code the book hides);
* no table cell is cut short (pandas' "..." at its end), and the scorecard page shows every
  recorded claim (``book/claims``);
* every ``<img>`` loads (``naturalWidth > 0``) from the book itself (same origin or ``data:``);
* the browser reports no failed request for a file of the book and no uncaught script error in it
  (two known harmless messages excepted, see ``BENIGN``);
* its sidebar links reach every page of ``_toc.yml``;
* formulas are typeset by the MathJax copy inside the book (no CDN), checked on the root page.

Screenshots go to ``_build/screenshots/`` (one per page, the viewport and the whole page), with
``report.json`` (book build seconds, images checked per page, external requests that failed).
Chromium and chromedriver are the Debian packages; when missing the test installs them with
apt-get if it can, and skips otherwise (fails instead when ``CAMLIB_REQUIRE_BROWSER=1``, as under make).
"""
from __future__ import annotations

import base64
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from camlib.book.scorecard import load_scorecard

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
STAMP = ROOT / "_build" / ".built-for-browser-test"  # touched after a successful build by this test
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")  # offline as in CI, even where a network exists
ASSERT_LINE = re.compile(r"^\s*assert\b")
BAR = re.compile(r"^(?:.*: ?)?\s*(?:\d{1,3}%\|[^|]*\| )?\S+ \[\d+:\d+[^\]]*\]$")


def toc_pages() -> list[str]:
    """Every page of ``_toc.yml`` (root first), as paths without suffix: ``notebooks/02_...``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries: list | None) -> None:
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [re.sub(r"\.(md|ipynb)$", "", page) for page in pages]


def is_progress_output(text: str) -> bool:
    """Whether a stderr output holds nothing but tqdm progress bars."""
    lines = [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]
    return bool(lines) and all(BAR.match(line) for line in lines)


def unavailable(reason: str) -> None:
    if os.environ.get("CAMLIB_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def ensure_browser() -> None:
    """Chromium and chromedriver from Debian: present, or installed now when this user can."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        unavailable(f"{CHROMIUM} or {CHROMEDRIVER} is missing and this user cannot install them: "
                    "run `make browser-deps` as root, or `sudo apt-get install chromium chromium-driver`")
    proc = subprocess.run("apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver",
                          shell=True, capture_output=True, text=True, timeout=1800)
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        unavailable(f"apt-get could not install chromium and chromium-driver: {(proc.stderr or proc.stdout).strip()[-500:]}")


def build_book() -> float:
    """Build ``_build/html`` unless it is newer than every source; returns the build's seconds (0 if reused)."""
    pages = toc_pages()
    sources = [ROOT / "_toc.yml", ROOT / "_config.yml", *sorted((ROOT / "book").rglob("*"))]
    sources += [next(iter(sorted(ROOT.glob(f"{page}.*"))), ROOT / f"{page}.missing") for page in pages]
    built = [HTML / f"{page}.html" for page in pages]
    if all(p.exists() for p in [STAMP, *sources, *built]) and STAMP.stat().st_mtime > max(p.stat().st_mtime for p in sources):
        return 0.0
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
         "build", str(ROOT), "--builder", "html", "--warningiserror", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    if proc.returncode != 0:
        log = proc.stdout + proc.stderr
        problems = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
        pytest.fail("jupyter-book build failed:\n" + "\n".join(problems or log.splitlines()[-40:]))
    STAMP.touch()
    return time.perf_counter() - start


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture(scope="module")
def report():
    data: dict = {"pages": {}}
    yield data
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "report.json").write_text(json.dumps(data, indent=2) + "\n")


@pytest.fixture(scope="module")
def site(report):
    """The book served on a free port of 127.0.0.1; yields its base URL."""
    ensure_browser()
    report["book_build_seconds"] = round(build_book(), 1)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed: pip install selenium (camlib's test extra)")
    profile = tempfile.mkdtemp(prefix="camlib-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait_for(lambda: driver.execute_script("return document.readyState") == "complete", f"{url} never finished loading")


LOAD_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach(i => { i.loading = "eager"; });
Promise.all(images.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })))
  .then(() => done(images.map(i => [i.currentSrc || i.src, i.naturalWidth])));
"""
ERROR_OUTPUTS = """
return Array.from(document.querySelectorAll(
  ".cell_output .output.traceback, .cell_output .output.stderr, .cell_output .output.stream, .system-message"))
  .map(e => [e.className, e.innerText]);
"""
TABLE_CELLS = """
return Array.from(document.querySelectorAll(".cell_output table td, .cell_output table th")).map(e => e.innerText.trim());
"""
SIDEBAR = """
return Array.from(document.querySelectorAll("nav.bd-docs-nav a.reference.internal"))
  .map(a => [a.href.split("#")[0], a.offsetParent !== null]);
"""
SIDEBAR_LINK = """
return Array.from(document.querySelectorAll("nav.bd-docs-nav a.reference.internal"))
  .find(a => a.href.split("#")[0] === arguments[0]);
"""
#: Console messages that are not the book's fault: the browser asks every site for /favicon.ico, and
#: jupyter-book 1.0.4 writes sphinx-thebe's inline config script twice (the second copy fails, harmlessly).
BENIGN = re.compile(r"/favicon\.ico - Failed to load resource|Identifier 'THEBE_JS_URL' has already been declared")


def screenshots(driver, page: str) -> None:
    """The viewport and the whole page (up to 20000 px tall) as PNGs under ``_build/screenshots``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = page.replace("/", "__")
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 20000), "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    (SHOTS / f"{name}-full.png").write_bytes(base64.b64decode(shot["data"]))


def test_progress_bar_rule():
    assert is_progress_output("features:   0%|          | 0/4 [00:00<?, ?it/s]\rfeatures: 100%|##########| 4/4 [00:01<00:00,  2.9it/s]\n")
    assert is_progress_output("train: 12it [00:03,  3.81it/s]\n")
    assert not is_progress_output("/x/tqdm/auto.py:21: TqdmWarning: IProgress not found.\n  from .autonotebook import tqdm\n")
    assert not is_progress_output("features: 100%|#####| 4/4 [00:01<00:00, 2.9it/s]\nUserWarning: something went wrong\n")
    assert not is_progress_output("")


@pytest.mark.slow
@pytest.mark.parametrize("page", toc_pages())
def test_page_renders_without_errors_and_with_every_image(browser, site, report, page):
    open_page(browser, site + page + ".html")
    assert browser.find_elements("css selector", "main h1"), f"{page}: no title"
    problems = []
    for classes, text in browser.execute_script(ERROR_OUTPUTS):
        if "traceback" in classes.split() or "system-message" in classes.split():
            problems.append(f"error output: {text[:300]}")
        elif "stderr" in classes.split() and not is_progress_output(text):
            problems.append(f"stderr output that is not a progress bar: {text[:300]}")
        elif "stream" in classes.split() and "Traceback (most recent call last)" in text:
            problems.append(f"a traceback printed to stdout: {text[:300]}")
    shown = browser.execute_script("return document.querySelector('main').innerText")
    problems += [f"an assert the reader sees: {line.strip()[:120]}" for line in shown.splitlines() if ASSERT_LINE.match(line)]
    cells = browser.execute_script(TABLE_CELLS)
    problems += [f"a table cell cut short: {text[:120]!r}" for text in cells if text.endswith(("...", "\u2026"))]
    if page == "book/scorecard":
        card = load_scorecard(ROOT / "book" / "claims")
        shown = set(cells)
        problems += [f"scorecard row missing: {claim!r}" for claim in card["claim"] if claim not in shown]
    images = browser.execute_async_script(LOAD_IMAGES)
    for src, width in images:
        if not (src.startswith(site) or src.startswith("data:")):
            problems.append(f"external image (CI is offline): {src}")
        elif width == 0:
            problems.append(f"image did not load: {src}")
    log = browser.get_log("browser")
    problems += [f"browser: {e['message'][:300]}" for e in log
                 if e["level"] == "SEVERE" and e["message"].startswith(site) and not BENIGN.search(e["message"])
                 and ("Failed to load resource" in e["message"] or "Uncaught" in e["message"])]
    report["pages"][page] = {
        "images": len(images),
        "external_requests_failed": sorted({e["message"].split(" ")[0] for e in log if e["level"] == "SEVERE" and not e["message"].startswith(site)}),
    }
    screenshots(browser, page)
    assert not problems, f"{page}:\n" + "\n".join(dict.fromkeys(problems))


MATH = """
const script = Array.from(document.scripts).find(s => /mathjax/i.test(s.src));
return [script ? script.src : null, document.querySelectorAll("mjx-container").length,
        document.querySelector("main").innerText.includes(String.raw`\\sum`)];
"""


@pytest.mark.slow
def test_formulas_render_offline(browser, site):
    open_page(browser, site + toc_pages()[0] + ".html")
    source = browser.execute_script(MATH)[0]
    assert source and source.startswith(site), f"MathJax must load from the book itself, not {source}"

    def typeset() -> bool:
        _, containers, raw_tex = browser.execute_script(MATH)
        return containers > 0 and not raw_tex

    wait_for(typeset, "the root page's formulas were not typeset: raw TeX (\\sum) still shows after 30 s", seconds=30)


@pytest.mark.slow
def test_sidebar_reaches_every_chapter(browser, site):
    pages = toc_pages()
    def arrived(page: str) -> bool:
        return (browser.current_url.split("#")[0] == site + page + ".html"
                and browser.execute_script("return document.readyState") == "complete")

    open_page(browser, site + "index.html")  # redirects to the root page
    wait_for(lambda: arrived(pages[0]), f"index.html did not lead to {pages[0]}.html")
    for page in pages[1:] + pages[:1]:
        links = dict(browser.execute_script(SIDEBAR))
        missing = [p for p in pages if site + p + ".html" not in links]
        assert not missing, f"the sidebar of {browser.current_url} has no link to {missing}"
        assert links[site + page + ".html"], f"the sidebar link to {page} is hidden"
        if not arrived(page):
            browser.execute_script(SIDEBAR_LINK, site + page + ".html").click()
            wait_for(lambda: arrived(page), f"clicking the sidebar link to {page} went to {browser.current_url}")
        assert browser.find_elements("css selector", "main h1"), f"{page}: reached, but it has no title"
