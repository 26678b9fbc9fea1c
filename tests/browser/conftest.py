"""What the browser tests share: the app served over HTTP in a thread, and a headless Chromium page
(Debian's `chromium`, driven by Playwright with the system browser; never `playwright install`).
Skipped, with the reason, only when no browser can be started."""
from __future__ import annotations

import shutil
import threading

import pytest

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]
DESKTOP, PHONES = {"width": 1280, "height": 1500}, ({"width": 360, "height": 740}, {"width": 414, "height": 896})


def playwright_api():
    return pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                               "(pip install -r requirements-test.txt)")


@pytest.fixture
def server(app):
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


@pytest.fixture
def page():
    if BROWSER is None:
        pytest.skip("no Chromium: install Debian's chromium (apt-get install chromium; `make test` does it when it can)")
    api = playwright_api()
    with api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=BROWSER, args=ARGS)
        except api.Error as exc:  # installed but cannot start here
            pytest.skip(f"Chromium at {BROWSER} did not start: {exc.message.splitlines()[0]}")
        page = browser.new_page(viewport=DESKTOP)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.errors = errors
        yield page
        browser.close()


def no_horizontal_scroll(page) -> bool:
    """The page fits its viewport's width: nothing to scroll sideways to."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
