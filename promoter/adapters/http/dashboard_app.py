"""The dashboard's web layer: Werkzeug for requests and routing, Jinja2
templates with autoescaping, every asset served from the package (no CDN),
served by waitress (a production WSGI server: it bounds request heads,
bodies and idle connections itself).

Read-only: the only methods are GET and HEAD. Actions are links to the
forge. With a token, every request needs `Authorization: Bearer <token>`
or HTTP basic auth with the token as the password (what a browser can
send); the token never reaches a page.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Protocol

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.exceptions import HTTPException, NotFound, Unauthorized
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from promoter.core.dashboard import Snapshot
from promoter.core.policy.durations import format_duration

RELATION_TEXT = {
    "equal": "= same as",
    "behind": "▼ behind",
    "ahead": "▲ ahead of",
    "differs": "≠ differs from",
    "config": "≠ config differs from",
    "": "",
}
# Symbols every system font has (DejaVu included), unlike emoji.
POLICY_TEXT = {
    "success": "✓ policies pass",
    "failure": "✗ a policy fails",
    "pending": "… checking",
    "error": "⚠ could not check",
}
RULE_ICONS = {"pass": "✓", "fail": "✗", "error": "✗", "warn": "⚠", "skipped": "–"}
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
SECURITY_HEADERS = {
    # No inline script or style, nothing from elsewhere: a name that slipped
    # past escaping still could not run.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _web(url: str | None) -> str | None:
    """`url` when it is an http(s) link, else None: a `javascript:` pipeline
    trailer or PR URL must never become a clickable link."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def _age(when: str) -> str:
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = max(0.0, (datetime.now(UTC) - moment).total_seconds())
    return f"for {format_duration(seconds)}"


class Snapshots(Protocol):
    """Where the pages read from (workflows.dashboard.Refresher)."""

    @property
    def snapshot(self) -> Snapshot: ...

    @property
    def error(self) -> str | None: ...


class Links:
    """Web links for commits and PR comments, when the forge's web address is known."""

    def __init__(self, web: str | None, kind: str | None) -> None:
        self.web, self.kind = web, kind

    def commit(self, sha: str) -> str:
        sep = "/-/commit/" if self.kind == "gitlab" else "/commit/"
        return f"{self.web}{sep}{sha}"

    def promote(self, pr_url: str) -> str:
        return pr_url + ("#note_new" if self.kind == "gitlab" else "#new_comment_field")

    def for_template(self) -> dict[str, Callable[..., str] | None]:
        live = self.web is not None
        return {"commit": self.commit if live else None, "promote": self.promote if live else None}


class DashboardApp:
    def __init__(
        self,
        refresher: Snapshots,
        *,
        token: str | None = None,
        links: Links | None = None,
        forge: bool = False,
        prefix: str = "",
    ) -> None:
        self.refresher, self.token, self.prefix, self.forge = refresher, token, prefix, forge
        self.links = (links or Links(None, None)).for_template()
        self.templates = Environment(
            loader=PackageLoader("promoter", "dashboard/templates"),
            autoescape=select_autoescape(["html"], default=True),
        )
        self.templates.globals.update(age=_age, web=_web)
        self.urls = Map(
            [
                Rule("/", endpoint="matrix"),
                Rule("/history", endpoint="history"),
                Rule("/api/version", endpoint="version"),
                Rule("/api/snapshot", endpoint="snapshot"),
                Rule("/static/<name>", endpoint="static"),
                Rule("/healthz", endpoint="healthz"),
            ]
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except HTTPException as err:
            response = err.get_response(environ)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("read-only: GET and HEAD only\n", 405, {"Allow": "GET, HEAD"})
        adapter = self.urls.bind_to_environ(request.environ)
        endpoint, args = adapter.match()
        if endpoint != "healthz" and not self._authorised(request):
            raise Unauthorized(www_authenticate=None)
        handler: Callable[..., Response] = getattr(self, f"_{endpoint}")
        return handler(request, **args)

    def _authorised(self, request: Request) -> bool:
        if self.token is None:
            return True
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        offered = ""
        if scheme.lower() == "bearer":
            offered = value.strip()
        elif scheme.lower() == "basic":
            try:
                offered = base64.b64decode(value.strip()).decode("utf-8").partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                offered = ""
        return hmac.compare_digest(offered.encode(), self.token.encode())

    def _page(self, name: str, page: str, **values: Any) -> Response:
        html = self.templates.get_template(name).render(
            snapshot=self.refresher.snapshot,
            error=self.refresher.error,
            prefix=self.prefix,
            page=page,
            links=self.links,
            relation_text=RELATION_TEXT,
            policy_text=POLICY_TEXT,
            rule_icons=RULE_ICONS,
            forge=self.forge,
            **values,
        )
        return Response(
            html, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"}
        )

    def _matrix(self, request: Request) -> Response:
        return self._page("matrix.html", "matrix")

    def _history(self, request: Request) -> Response:
        service, env = request.args.get("service"), request.args.get("env")
        rows = [
            d
            for d in self.refresher.snapshot.history
            if (not service or d.service == service) and (not env or d.env == env)
        ]
        rows.sort(key=lambda d: d.date, reverse=True)
        return self._page("history.html", "history", deployments=rows, service=service, env=env)

    def _json(self, data: object) -> Response:
        return Response(
            json.dumps(data), content_type="application/json", headers={"Cache-Control": "no-store"}
        )

    def _version(self, request: Request) -> Response:
        return self._json({"version": self.refresher.snapshot.version})

    def _snapshot(self, request: Request) -> Response:
        data = self.refresher.snapshot.to_json()
        for cell in data["cells"].values():  # the page's wording, so the poller need not age dates
            cell["age"] = _age(cell["since"]) if cell["since"] else ""
        return self._json(data)

    def _healthz(self, request: Request) -> Response:
        return Response("ok\n", content_type="text/plain")

    def _static(self, request: Request, name: str) -> Response:
        suffix = name[name.rfind(".") :] if "." in name else ""
        if suffix not in STATIC_TYPES or "/" in name:
            raise NotFound()
        asset = resources.files("promoter.dashboard") / "static" / name
        if not asset.is_file():
            raise NotFound()
        return Response(
            asset.read_bytes(),
            content_type=STATIC_TYPES[suffix],
            headers={"Cache-Control": "max-age=300"},
        )
