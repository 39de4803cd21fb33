"""promoter dashboard without a browser: the pages and the JSON over a real
environment repository (bumped and promoted with promoter itself), escaping
of hostile names, tags and PR titles, auth, and the read-only rules. The
browser test is tests/test_dashboard_browser.py."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from werkzeug.test import Client

from promoter.adapters.http.dashboard_app import DashboardApp, Links
from promoter.core.dashboard import Cell, Snapshot
from promoter.workflows.dashboard import Refresher, local_reader
from tests.conftest import EXAMPLE, Remote, git, make_remote


@pytest.fixture
def remote(tmp_path: Path, run) -> Remote:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)
    remote = make_remote(tmp_path, source)
    hostile = {"PROMOTER_PIPELINE_URL": "javascript:alert(document.cookie)"}
    for args, env in (
        (("bump", "--env", "dev", "--service", "api", "--tag", "1.4.2"), hostile),
        (("bump", "--env", "dev", "--service", "web", "--tag", "0.9.0"), None),
    ):
        result = run(*args, "--repo-url", remote.url, env=env)
        assert result.exit_code == 0, result.output
    return remote


def _clone(remote: Remote, tmp_path: Path) -> Path:
    clone = tmp_path / "clone"
    git("clone", "--quiet", remote.url, str(clone), cwd=tmp_path)
    return clone


def _app(read, **options) -> tuple[Client, Refresher]:
    refresher = Refresher(read, 3600)
    refresher.refresh_once()
    return Client(DashboardApp(refresher, **options)), refresher


def test_the_matrix_shows_versions_ages_and_how_they_compare(remote, tmp_path: Path) -> None:
    client, _ = _app(local_reader(_clone(remote, tmp_path)))
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "ghcr.io/acme/api:1.4.2" in html
    snapshot = json.loads(client.get("/api/snapshot").get_data())
    cells = snapshot["cells"]
    assert cells["api/dev"]["version"] == "1.4.2" and cells["api/dev"]["since"]
    assert cells["api/staging"] == {
        **cells["api/staging"],
        "version": "1.0.0",
        "relation": "behind",
        "upstream": "dev",
    }
    assert cells["worker/prod-eu"]["relation"] in ("equal", "behind", "ahead", "differs")
    assert snapshot["environments"] == ["dev", "staging", "prod-eu", "prod-us"]
    assert 'class="cell behind" data-cell="api/staging"' in html
    # The bump's pipeline trailer is `javascript:…`: shown nowhere as a link.
    assert "javascript:" not in html
    history = client.get("/history?service=api").get_data(as_text=True)
    assert "1.4.2" in history and "bump" in history and "web" not in history.split("<tbody>")[1]


def test_the_version_moves_only_when_what_is_shown_changed(run, remote, tmp_path) -> None:
    clone = _clone(remote, tmp_path)
    client, refresher = _app(local_reader(clone))
    first = json.loads(client.get("/api/version").get_data())["version"]
    refresher.refresh_once()
    assert json.loads(client.get("/api/version").get_data())["version"] == first
    result = run(
        "set-image", "--repo", str(clone), "--env", "dev", "--service", "api", "--tag", "1.5.0"
    )
    assert result.exit_code == 0, result.output
    refresher.refresh_once()
    assert json.loads(client.get("/api/version").get_data())["version"] == first + 1
    cells = json.loads(client.get("/api/snapshot").get_data())["cells"]
    assert cells["api/dev"]["version"] == "1.5.0"


HOSTILE = '<img src=x onerror="alert(1)">'


def _hostile_snapshot() -> Snapshot:
    cell = Cell(
        HOSTILE,
        "dev",
        '"><script>alert(2)</script>',
        "ghcr.io/x:<b>",
        since=None,
        pipeline="javascript:alert(3)",
        relation="",
        upstream=None,
    )
    return Snapshot(
        ["dev"],
        [HOSTILE],
        {(HOSTILE, "dev"): cell},
        pull_requests=[
            {
                "number": 7,
                "title": "</a><script>alert(4)</script>",
                "url": "javascript:alert(5)",
                "env": "dev",
                "author": HOSTILE,
                "draft": False,
                "policy": "failure",
            }
        ],
        appliers={
            "dev": [
                {
                    "applier": "argocd",
                    "name": "<svg onload=alert(6)>",
                    "verdict": "degraded",
                    "summary": "<i>x</i>",
                    "revision": None,
                }
            ]
        },
        source="<u>repo</u>",
    )


def test_hostile_names_tags_and_pr_titles_are_escaped() -> None:
    client, _ = _app(lambda: _hostile_snapshot(), links=Links("https://github.com/a/b", "github"))
    page = client.get("/")
    html = page.get_data(as_text=True)
    for raw in ("<script>", "<img src=x", "<svg onload", "<i>x</i>", "<u>repo</u>", "<b>"):
        assert raw not in html, raw
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "&lt;/a&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in html
    assert "javascript:" not in html  # neither the pipeline nor the PR URL becomes a link
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    data = client.get("/api/snapshot")
    assert data.mimetype == "application/json"  # JSON, never sniffed as HTML


def test_a_token_guards_every_page_and_never_reaches_one(remote, tmp_path: Path) -> None:
    token = "dash-token-SECRET-777"
    client, _ = _app(local_reader(_clone(remote, tmp_path)), token=token)
    assert client.get("/").status_code == 401
    assert client.get("/api/snapshot").status_code == 401
    assert client.get("/static/dashboard.js").status_code == 401
    assert client.get("/healthz").status_code == 200  # probes need no token
    wrong = client.get("/", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    bearer = client.get("/", headers={"Authorization": f"Bearer {token}"})
    basic = base64.b64encode(f"anyone:{token}".encode()).decode()
    browser = client.get("/", headers={"Authorization": f"Basic {basic}"})
    assert bearer.status_code == browser.status_code == 200
    assert token not in bearer.get_data(as_text=True)


def test_read_only_and_only_its_own_assets(remote, tmp_path: Path) -> None:
    client, _ = _app(local_reader(_clone(remote, tmp_path)))
    assert client.post("/").status_code == 405
    assert client.delete("/api/snapshot").status_code == 405
    js = client.get("/static/dashboard.js")
    assert js.status_code == 200 and js.mimetype == "text/javascript"
    assert "innerHTML" not in js.get_data(as_text=True)  # the poller writes textContent only
    for path in (
        "/static/../templates/base.html",
        "/static/%2e%2e%2f__init__.py",
        "/static/nope.css",
        "/static/base.html",
    ):
        assert client.get(path).status_code == 404, path


def test_listening_beyond_loopback_needs_a_token(run, remote, tmp_path: Path) -> None:
    result = run("dashboard", "--repo", str(_clone(remote, tmp_path)), "--listen", "0.0.0.0:0")
    assert result.exit_code == 2
    assert "beyond loopback the dashboard needs --token-env" in result.stderr
    bad = run("dashboard", "--repo", str(tmp_path), "--listen", "nowhere")
    assert bad.exit_code == 2 and "is not HOST:PORT" in bad.stderr


def test_appliers_of_the_bundled_agent(remote, tmp_path: Path, monkeypatch) -> None:
    """An environment with the agent's /status (a real StatusServer) shows its
    last round; the others the promoter/apply status of their newest commit."""
    from promoter.adapters.forges import make_forge_for
    from promoter.adapters.http.agent_status import StatusServer
    from promoter.adapters.metrics import Metrics
    from promoter.core.applier.result import RoundResult
    from promoter.core.config.loader import load_config
    from tests.fakeforge import github_fake

    token = "ghp_dashAgentTOKEN99"
    monkeypatch.setenv("GITHUB_TOKEN", token)
    clone = _clone(remote, tmp_path)
    head = git("rev-parse", "HEAD", cwd=clone).strip()
    metrics = Metrics("staging")
    metrics.record(RoundResult("staging", head, ok=True, phase="done", desired=12))
    server = StatusServer(metrics, 0, host="127.0.0.1").start()
    try:
        with github_fake(repo="acme/env", token=token) as gh:
            gh.rsps.add_passthru(f"http://127.0.0.1:{server.port}")
            config = clone / "promoter.yaml"
            config.write_text(
                config.read_text().replace(
                    "defaults:\n", "forge:\n  type: github\n  repository: acme/env\ndefaults:\n"
                )
            )

            def forge(cfg):  # type: ignore[no-untyped-def]
                return make_forge_for(
                    cfg, None, "https://github.com/acme/env.git", None, {"GITHUB_TOKEN": token}
                )

            forge(load_config(clone)).set_status(head, "promoter/apply", "failure", "dev: x")
            client, _ = _app(
                local_reader(
                    clone, forge=forge, agents={"staging": f"http://127.0.0.1:{server.port}"}
                )
            )
            appliers = json.loads(client.get("/api/snapshot").get_data())["appliers"]
    finally:
        server.stop()
    (staging,) = appliers["staging"]
    assert staging["name"].startswith("promoter agent staging")
    assert (staging["verdict"], staging["revision"]) == ("healthy", head)
    (dev,) = appliers["dev"]
    assert (dev["name"], dev["verdict"]) == (f"promoter/apply on {head[:12]}", "degraded")
    html = client.get("/").get_data(as_text=True)
    assert "promoter agent staging" in html and "applied 0 of 12" in html


def test_the_command_serves_over_a_real_socket_and_stops_on_sigterm(remote, tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    token = "dash-cli-TOKEN-31337"
    clone = _clone(remote, tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "promoter",
            "dashboard",
            "--repo",
            str(clone),
            "--listen",
            "127.0.0.1:0",
            "--refresh",
            "1",
            "--token-env",
            "DASH_TOKEN",
        ],
        env={**os.environ, "DASH_TOKEN": token},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        assert line.startswith("dashboard on http://127.0.0.1:"), line
        base = line.split()[2]
        request = urllib.request.Request(base, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as page:
            html = page.read().decode()
        assert 'data-cell="api/dev"' in html and "1.4.2" in html and token not in html
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base, timeout=10)
        assert refused.value.code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
    assert code == 0, proc.stderr.read()


def test_serve_mounts_the_pages_under_dashboard(tmp_path: Path) -> None:
    """The webhook receiver serves the same pages at /dashboard/, links and
    assets under that prefix, through the standard library's WSGI gateway."""
    import http.client
    import threading

    from promoter.adapters.http.webhook_auth import WebhookSettings
    from promoter.adapters.http.webhooks import WebhookServer

    token = "serve-dash-TOKEN-5"
    snapshot = _hostile_snapshot()
    refresher = Refresher(lambda: snapshot, 3600)
    refresher.refresh_once()
    app = DashboardApp(refresher, token=token, prefix="/dashboard")
    settings = WebhookSettings(github_secret="s3cret-webhook")
    server = WebhookServer(("127.0.0.1", 0), settings, lambda e: None, dashboard=app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()

    def get(path: str, auth: bool = True) -> tuple[int, str, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if auth else {})
        answer = conn.getresponse()
        body = answer.read().decode()
        conn.close()
        return answer.status, body, dict(answer.getheaders())

    try:
        status, html, headers = get("/dashboard/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert 'href="/dashboard/static/dashboard.css"' in html and "<script>" not in html
        assert get("/dashboard/static/dashboard.js")[0] == 200
        assert get("/dashboard/api/version")[1] == '{"version": 1}'
        assert get("/dashboard/", auth=False)[0] == 401
        assert get("/dashboards")[0] == 404
        assert get("/healthz")[0] == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_serve_dashboard_refuses_what_it_cannot_show_safely(run) -> None:
    env = {"PROMOTER_WEBHOOK_SECRET": "s3cret-webhook"}
    two = run(
        "serve",
        "--dashboard",
        "--repo-url",
        "https://github.com/a/b.git",
        "--repo-url",
        "https://github.com/a/c.git",
        env=env,
    )
    assert two.exit_code == 2 and "--dashboard shows one repository" in two.stderr
    public = run(
        "serve",
        "--dashboard",
        "--host",
        "0.0.0.0",
        "--repo-url",
        "https://github.com/a/b.git",
        env=env,
    )
    assert public.exit_code == 2 and "beyond loopback the pages need" in public.stderr


def test_no_page_shows_a_secret_value(remote, tmp_path: Path) -> None:
    """The example's dev Secret is SOPS-encrypted; its value (the canary
    here) is on no page and in no JSON, decrypted or not."""
    canary = "example-only-not-a-real-secret"
    clone = _clone(remote, tmp_path)
    assert canary not in (clone / "apps/web/overlays/dev/secret.sops.yaml").read_text()
    client, _ = _app(local_reader(clone))
    for url in ("/", "/api/snapshot", "/history?service=web", "/history?service=api"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert canary not in page.get_data(as_text=True), url
