"""FakeKube: the fake API server over HTTP (the switches tests flip are in switches.py).

    with FakeKube() as kube:                       # 127.0.0.1:<free port>, plain HTTP
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
        dyn = kube.dynamic_client()                # kubernetes.dynamic.DynamicClient
        deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
        dyn.server_side_apply(deployments, body=manifest, field_manager="promoter")
        kube.make_available("default", "web")
        assert kube.count("apply", "deployments") == 1

See docs/kubefake.md for what the fake models and what it does not.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import tempfile
import threading
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from . import catalog
from .errors import ApiError, bad_request, status_body
from .store import Write
from .switches import Switches

if TYPE_CHECKING:
    from kubernetes.dynamic import DynamicClient

PATCH_TYPES = {
    "application/apply-patch+yaml": "apply",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
}
NOT_FOUND = "the server could not find the requested resource"


@dataclass
class RequestRecord:
    """One request as the fake saw it (the request log)."""

    method: str
    path: str
    query: dict[str, list[str]]
    verb: str
    """get, list, create, update, patch, apply, delete, deletecollection, watch, discovery, other"""
    resource: str
    """`deployments.apps`, `configmaps`; the path for discovery requests"""
    plural: str = ""
    group: str = ""
    namespace: str | None = None
    name: str | None = None
    subresource: str = ""
    content_type: str = ""
    field_manager: str | None = None
    dry_run: bool = False
    status: int = 0
    fault: bool = False
    user_agent: str = ""


@dataclass
class Fault:
    """A canned failure for the next matching request(s)."""

    method: str | None = None
    path_regex: str | None = None
    status: int | None = 500
    """None: after `delay`, serve the request normally (a slow server)."""
    times: int = 1
    delay: float = 0.0
    drop: bool = False
    """Close the connection without answering."""
    retry_after: int | None = None
    message: str | None = None
    hits: int = 0

    def matches(self, method: str, target: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path_regex or re.search(self.path_regex, target) is not None


@dataclass
class _Target:
    kind: str
    """"resource", "discovery", "health", "unknown\""""
    group: str = ""
    version: str = ""
    plural: str = ""
    namespace: str | None = None
    name: str | None = None
    subresource: str = ""
    parts: list[str] = field(default_factory=list)


def _parse_path(path: str) -> _Target:
    parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
    if parts in (["healthz"], ["livez"], ["readyz"]):
        return _Target("health", parts=parts)
    if parts == ["version"] or parts in (["api"], ["apis"]) or parts[:1] == ["openapi"]:
        return _Target("discovery", parts=parts)
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 2:
        if len(parts) == 2:
            return _Target("discovery", group=parts[1], parts=parts)
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return _Target("unknown", parts=parts)
    if not rest:
        return _Target("discovery", group=group, version=version, parts=parts)
    namespace = None
    namespace_subresource = group == "" and len(rest) == 3 and rest[2] in ("status", "finalize")
    if rest[0] == "namespaces" and len(rest) >= 3 and not namespace_subresource:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return _Target("unknown", parts=parts)
    return _Target(
        "resource",
        group,
        version,
        rest[0],
        namespace,
        rest[1] if len(rest) > 1 else None,
        rest[2] if len(rest) > 2 else "",
        parts,
    )


def _verb(method: str, target: _Target, query: dict[str, list[str]], content_type: str) -> str:
    if target.kind == "discovery":
        return "discovery"
    if target.kind != "resource":
        return "other"
    if method == "GET":
        if query.get("watch", ["false"])[0] in ("true", "1"):
            return "watch"
        return "get" if target.name else "list"
    if method == "PATCH":
        return "apply" if PATCH_TYPES.get(content_type) == "apply" else "patch"
    if method == "DELETE":
        return "delete" if target.name else "deletecollection"
    return {"POST": "create", "PUT": "update"}.get(method, "other")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubefake"
    timeout = 30  # idle keep-alive connections go away eventually

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and
        # delayed ACKs add 40 ms to every request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        self.server.fake._serve(self)  # type: ignore[attr-defined]

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeKube(Switches):
    """A stateful fake kube-apiserver on 127.0.0.1 that the real kubernetes client talks to.

    Options: `token` (bearer token the server requires; random by default),
    `strict_namespaces` (404 for objects in a missing namespace; default on),
    `auto_ready` (True: workloads are healthy at once; seconds: healthy that
    long after each change; False: only when a test says so),
    `crd_delay` (seconds until a new CRD is Established and served; None: only
    on `establish_crd(name)`), `argo_rollouts` (serve argoproj.io/v1alpha1
    Rollout), `nodes` (DaemonSet size), `clock`, `namespaces` (created at start),
    `version` (what /version reports).
    """

    def __init__(
        self, *, token: str | None = None, version: str = "v1.31.0", **options: Any
    ) -> None:
        super().__init__(**options)
        self.token = token or f"kubefake-{uuid.uuid4().hex}"
        self.version = version
        self.internal_errors: list[str] = []
        self._log: list[RequestRecord] = []
        self._faults: list[Fault] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._tmp: Path | None = None
        self._clients = 0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeKube:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._stopping.clear()
        self._tmp = Path(tempfile.mkdtemp(prefix="kubefake-"))
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="kubefake", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> FakeKube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeKube is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- clients -----------------------------------------------------------------------

    def kubeconfig(self, namespace: str = "default") -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kubefake", "cluster": {"server": self.url}}],
            "users": [{"name": "kubefake", "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": "kubefake",
                    "context": {"cluster": "kubefake", "user": "kubefake", "namespace": namespace},
                }
            ],
            "current-context": "kubefake",
        }

    def write_kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(self.kubeconfig(namespace), sort_keys=False))
        return target

    def dynamic_client(
        self, kubeconfig: str | Path | None = None, cache_file: str | Path | None = None
    ) -> DynamicClient:
        """A real DynamicClient built the way an applier builds one, from a kubeconfig.

        Its discovery cache goes to a private file (the client's default is a
        shared file in /tmp keyed by the server URL).
        """
        from kubernetes import config, dynamic

        assert self._tmp is not None, "start() the fake first"
        self._clients += 1
        path = kubeconfig or self.write_kubeconfig(self._tmp / f"kubeconfig-{self._clients}")
        api = config.new_client_from_config(config_file=str(path))
        cache = cache_file or self._tmp / f"discovery-{self._clients}.json"
        return dynamic.DynamicClient(api, cache_file=str(cache))

    # -- request log -------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        with self.lock:
            return list(self._log)

    def reset_requests(self) -> None:
        with self.lock:
            self._log.clear()

    def counts(self) -> Counter[tuple[str, str]]:
        """Requests per (verb, resource), e.g. {("apply", "deployments.apps"): 3, ...}."""
        return Counter((r.verb, r.resource) for r in self.requests)

    def count(self, verb: str | None = None, resource: str | None = None, **match: Any) -> int:
        """Requests with this verb and resource (`deployments` or `deployments.apps`), and
        any other RequestRecord attributes given (namespace=, name=, status=, dry_run=, ...)."""
        total = 0
        for record in self.requests:
            if verb is not None and record.verb != verb:
                continue
            if resource is not None and resource not in (record.resource, record.plural):
                continue
            if all(getattr(record, k) == v for k, v in match.items()):
                total += 1
        return total

    # -- fault injection -------------------------------------------------------------

    def fail_next(
        self,
        method: str | None = None,
        path_regex: str | None = None,
        status: int | None = 500,
        times: int = 1,
        delay: float = 0.0,
        *,
        drop: bool = False,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> Fault:
        """The next `times` requests matching method and path (re.search on path?query)
        wait `delay` seconds, then get `status` (a Status body), or are dropped, or —
        with status=None — are served normally (late)."""
        fault = Fault(method, path_regex, status, times, delay, drop, retry_after, message)
        with self.lock:
            self._faults.append(fault)
        return fault

    def timeout_next(
        self,
        method: str | None = None,
        path_regex: str | None = None,
        seconds: float = 5.0,
        times: int = 1,
    ) -> Fault:
        """Answer only after `seconds` (longer than the client's timeout): the request is
        still carried out when the wait is over, like a write that lands after the
        client gave up."""
        return self.fail_next(method, path_regex, None, times, seconds)

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def _take_fault(self, method: str, target: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.matches(method, target):
                    fault.hits += 1
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- HTTP ------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            self._serve_one(handler)
        except Exception:  # never leave the client hanging on the fake's own bug
            self.internal_errors.append(traceback.format_exc())
            handler.close_connection = True

    def _serve_one(self, handler: BaseHTTPRequestHandler) -> None:
        method = handler.command
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        split = urlsplit(handler.path)
        query = parse_qs(split.query, keep_blank_values=True)
        content_type = (handler.headers.get("Content-Type") or "").split(";")[0].strip()
        target = _parse_path(split.path)
        record = RequestRecord(
            method=method,
            path=split.path,
            query=query,
            verb=_verb(method, target, query, content_type),
            resource=split.path,
            namespace=target.namespace,
            name=target.name,
            subresource=target.subresource,
            content_type=content_type if raw else "",
            field_manager=query["fieldManager"][0] if query.get("fieldManager") else None,
            dry_run="dryRun" in query,
            user_agent=handler.headers.get("User-Agent", ""),
        )
        if target.kind == "resource":
            rt = self.resource_type(target.group, target.version, target.plural)
            record.plural, record.group = target.plural, target.group
            label = rt.label if rt else target.plural
            record.resource = f"{label}/{target.subresource}" if target.subresource else label
        with self.lock:
            self._log.append(record)
        code, body, headers = self._answer(
            handler, method, split.path, split.query, query, raw, content_type, target, record
        )
        if code == 0:  # dropped
            record.status = 0
            handler.close_connection = True
            return
        record.status = code
        self._respond(handler, code, body, headers)

    def _answer(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        path: str,
        raw_query: str,
        query: dict[str, list[str]],
        raw: bytes,
        content_type: str,
        target: _Target,
        record: RequestRecord,
    ) -> tuple[int, Any, dict[str, str]]:
        if target.kind == "health":
            return 200, "ok", {}
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, status_body(401, "Unauthorized", "Unauthorized"), {}
        fault = self._take_fault(method, f"{path}?{raw_query}" if raw_query else path)
        if fault is not None:
            record.fault = True
            if fault.delay:
                self._stopping.wait(fault.delay)
            if fault.drop:
                return 0, None, {}
            if fault.status is not None:
                headers = (
                    {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                )
                message = fault.message or f"kubefake: injected {fault.status}"
                return fault.status, status_body(fault.status, None, message), headers
        try:
            with self.lock:
                self.tick()
                code, body = self._route(method, query, raw, content_type, target, handler)
            return code, body, {}
        except ApiError as err:
            return err.code, err.status, {}
        except Exception:  # the fake's own bug: make it visible to the test
            text = traceback.format_exc()
            self.internal_errors.append(text)
            return 500, status_body(500, None, f"kubefake internal error: {text}"), {}

    def _respond(
        self, handler: BaseHTTPRequestHandler, code: int, body: Any, headers: dict[str, str]
    ) -> None:
        if isinstance(body, str):
            data, ctype = body.encode(), "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(body).encode(), "application/json"
        try:
            handler.send_response(code)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Audit-Id", str(uuid.uuid4()))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up (timeout)

    # -- routing -------------------------------------------------------------------------

    def _discovery(self, target: _Target) -> dict[str, Any]:
        parts = target.parts
        if parts == ["version"]:
            major, minor = self.version.lstrip("v").split(".")[:2]
            return {
                "major": major,
                "minor": minor,
                "gitVersion": self.version,
                "gitCommit": "kubefake",
                "gitTreeState": "clean",
                "buildDate": "2024-08-13T00:00:00Z",
                "goVersion": "go1.22.5",
                "compiler": "gc",
                "platform": "linux/amd64",
            }
        if parts == ["api"]:
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}
                ],
            }
        groups: dict[str, list[str]] = {}
        for rt in self.types():
            if rt.group:
                versions = groups.setdefault(rt.group, [])
                if rt.version not in versions:
                    versions.append(rt.version)
        if parts == ["apis"]:
            return {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [catalog.api_group(g, v) for g, v in groups.items()],
            }
        if target.version:
            served = [
                rt
                for rt in self.types()
                if (rt.group, rt.version) == (target.group, target.version)
            ]
            if served:
                gv = f"{target.group}/{target.version}" if target.group else target.version
                return catalog.resource_list(gv, served)
        elif target.group in groups:
            return catalog.api_group(target.group, groups[target.group])
        raise ApiError(404, NOT_FOUND, reason="NotFound")

    def _route(
        self,
        method: str,
        query: dict[str, list[str]],
        raw: bytes,
        content_type: str,
        target: _Target,
        handler: BaseHTTPRequestHandler,
    ) -> tuple[int, Any]:
        if target.kind == "discovery":
            if method != "GET":
                raise ApiError(405, f"{method} is not allowed on discovery endpoints")
            return 200, self._discovery(target)
        if target.kind != "resource":
            raise ApiError(404, NOT_FOUND, reason="NotFound")
        rt = self.resource_type(target.group, target.version, target.plural)
        if (
            rt is None
            or (target.namespace is not None and not rt.namespaced)
            or (target.subresource and not (target.subresource == "status" and rt.status))
        ):
            raise ApiError(404, NOT_FOUND, reason="NotFound")

        def single(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        dry_values = query.get("dryRun", [])
        for value in dry_values:
            if value != "All":
                raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
        force_raw = single("force")
        force = None if force_raw is None else force_raw.lower() in ("true", "1")
        patch_type = PATCH_TYPES.get(content_type) if method == "PATCH" else None
        if force is not None and method == "PATCH" and patch_type != "apply":
            raise ApiError(422, "force: Forbidden: may not be specified for non-apply patch")
        manager = single("fieldManager")
        if manager and len(manager) > 128:
            raise ApiError(422, "fieldManager: Too long: must have at most 128 bytes")
        if not manager and patch_type != "apply":
            manager = (handler.headers.get("User-Agent") or "unknown").split("/")[0]
        write = Write(manager or "", rt.api_version, bool(dry_values), force, target.subresource)
        ns, name = target.namespace, target.name
        if rt.namespaced and ns is None and (method in ("POST", "PUT", "PATCH") or name):
            raise ApiError(404, NOT_FOUND, reason="NotFound")
        if method == "GET":
            if query.get("watch", ["false"])[0] in ("true", "1"):
                raise ApiError(405, "kubefake does not implement watch", reason="MethodNotAllowed")
            if name:
                return 200, self.get(rt, ns, name)
            limit = single("limit")
            return 200, self.list_items(
                rt,
                ns,
                single("labelSelector"),
                single("fieldSelector"),
                int(limit) if limit else None,
                single("continue"),
            )
        if method == "POST" and name is None:
            return self._swap(self.create(rt, ns, _json(raw), write))
        if method == "PUT" and name:
            return self._swap(self.update(rt, ns, name, _json(raw), write))
        if method == "PATCH" and name:
            if patch_type is None:
                raise ApiError(
                    415,
                    f"the body of the request was in an unknown format - accepted media types "
                    f"include: {', '.join(PATCH_TYPES)}",
                )
            if patch_type == "apply":
                try:
                    body = yaml.safe_load(raw.decode() or "{}")
                except yaml.YAMLError as err:
                    raise bad_request(f"error decoding YAML: {err}") from err
                return self._swap(self.apply(rt, ns, name, body, write))
            if patch_type == "strategic" and rt.custom:
                raise ApiError(
                    415,
                    "strategic merge patch is not supported for custom resources: use "
                    "application/merge-patch+json or application/apply-patch+yaml",
                )
            return self._swap(self.patch(rt, ns, name, _json(raw), patch_type, write))
        if method == "DELETE":
            options = _json(raw) if raw else {}
            if not isinstance(options, dict):
                raise bad_request("DeleteOptions must be an object")
            if single("propagationPolicy"):
                options["propagationPolicy"] = single("propagationPolicy")
            if name:
                return self._swap(self.delete(rt, ns, name, options, write.dry_run))
            return 200, self.delete_collection(
                rt, ns, single("labelSelector"), single("fieldSelector"), options, write.dry_run
            )
        raise ApiError(405, f"{method} is not allowed here", reason="MethodNotAllowed")

    @staticmethod
    def _swap(result: tuple[dict[str, Any], int]) -> tuple[int, Any]:
        return result[1], result[0]


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode() or "null")
    except ValueError as err:
        raise bad_request(f"error decoding JSON body: {err}") from err


__all__ = ["FakeKube", "Fault", "RequestRecord"]
