"""The dashboard in a real browser: Debian's headless Chromium, driven by
Selenium through chromedriver, against the bundled example repository
served on 127.0.0.1. It finds the versions in the matrix, sees a cell change
after a bump without a reload, follows a PR link (the GitHub fake's web
address is a page on loopback) and saves screenshots of the main views
(into $PROMOTER_SCREENSHOTS, else the test's temporary folder)."""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promoter.adapters.forges import make_forge_for
from promoter.adapters.http.dashboard_app import DashboardApp, Links
from promoter.workflows.dashboard import Refresher, local_reader
from tests.conftest import EXAMPLE, git, make_remote
from tests.fakeforge import github_fake

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver"
)
webdriver = pytest.importorskip("selenium.webdriver")
TOKEN = "ghp_dashboardTOKEN0042"


class _PullRequestPage(http.server.BaseHTTPRequestHandler):
    """What the browser finds behind a PR link: GitHub's page, played here."""

    def do_GET(self) -> None:
        body = f"<html><body><h1 id='pr'>pull request page {self.path}</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web_root() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PullRequestPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-sync",
        "--disable-component-update",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PROMOTER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_dashboard_in_chromium(run, tmp_path, web_root, browser, monkeypatch) -> None:
    import waitress
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    config = source / "promoter.yaml"
    config.write_text(
        config.read_text()
        .replace(
            "defaults:\n",
            f"forge:\n  type: github\n  apiUrl: {web_root}/api/v3\n  repository: acme/env\n"
            "defaults:\n",
        )
        .replace(
            "  - name: staging\n    from: dev\n",
            "  - name: staging\n    from: dev\n"
            "    policies: {soak: {duration: 2h}, approvals: {count: 1}}\n",
        )
    )
    remote = make_remote(tmp_path, source)
    env = {"GITHUB_TOKEN": TOKEN}
    with github_fake(repo="acme/env", token=TOKEN, api_url=f"{web_root}/api/v3") as gh:
        for args in (
            ("bump", "--env", "dev", "--service", "api", "--tag", "1.4.2"),
            ("promote", "--from", "dev", "--to", "staging", "--service", "api"),
        ):
            result = run(*args, "--repo-url", remote.url, env=env)
            assert result.exit_code == 0, result.output
        (pr,) = gh.open_pulls("main")
        checked = run("check", "--repo-url", remote.url, "--pr", str(pr["number"]), env=env)
        assert checked.exit_code == 1, checked.output  # not soaked, nobody approved
        clone = tmp_path / "clone"
        git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)

        def forge(cfg):  # type: ignore[no-untyped-def]
            return make_forge_for(cfg, None, remote.url, None, dict(os.environ))

        refresher = Refresher(local_reader(clone, forge=forge), 0.5)
        refresher.start()
        app = DashboardApp(refresher, links=Links(None, "github"), forge=True)
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}"
        shots = _shots(tmp_path)
        try:
            browser.get(base + "/")
            cell = browser.find_element(By.CSS_SELECTOR, 'td[data-cell="api/dev"] .version')
            assert cell.text == "1.4.2"
            staging = browser.find_element(By.CSS_SELECTOR, 'td[data-cell="api/staging"]')
            assert "behind" in staging.get_attribute("class")
            assert "1.0.0" in staging.text and "behind dev" in staging.text
            link = browser.find_element(By.CSS_SELECTOR, "a.pr")
            assert link.text.startswith(f"#{pr['number']} ")
            rules = browser.find_element(By.CSS_SELECTOR, "ul.rules").text
            assert "✗ a policy fails" in browser.page_source
            assert "soak api:" in rules and "to go" in rules  # soak time remaining
            assert "approvals" in rules and "0 of 1" in rules
            browser.save_screenshot(str(shots / "dashboard-matrix.png"))

            browser.execute_script("window.__sameDocument = true")
            result = run(
                "set-image",
                "--repo",
                str(clone),
                "--env",
                "dev",
                "--service",
                "api",
                "--tag",
                "1.5.0",
            )
            assert result.exit_code == 0, result.output
            WebDriverWait(browser, 20).until(
                lambda b: (
                    b.find_element(By.CSS_SELECTOR, 'td[data-cell="api/dev"] .version').text
                    == "1.5.0"
                )
            )
            assert browser.execute_script("return window.__sameDocument") is True  # no reload
            since = browser.find_element(By.CSS_SELECTOR, 'td[data-cell="api/dev"] .since')
            assert since.text == ""  # 1.5.0 is not committed yet: no deployment to date it
            browser.save_screenshot(str(shots / "dashboard-after-bump.png"))

            browser.find_element(By.CSS_SELECTOR, "a.pr").click()
            WebDriverWait(browser, 10).until(lambda b: b.current_url == pr["html_url"])
            assert "pull request page /acme/env/pull/" in browser.find_element(By.ID, "pr").text

            browser.get(base + "/history")
            assert "1.4.2" in browser.find_element(By.CSS_SELECTOR, "table.history").text
            browser.save_screenshot(str(shots / "dashboard-history.png"))
        finally:
            server.close()
            refresher.stop.set()
    for name in ("dashboard-matrix.png", "dashboard-after-bump.png", "dashboard-history.png"):
        assert (shots / name).stat().st_size > 10_000, name
