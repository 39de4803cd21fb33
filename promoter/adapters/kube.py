"""The only module that talks to the Kubernetes API (the official client's
DynamicClient). Everything above it works on plain dicts.

What it adds to the client:
- one retry policy for every request: 429, 5xx, timeouts and dropped
  connections are retried with bounded exponential backoff (honouring
  `Retry-After` up to the cap); urllib3's own retries are switched off so
  two layers never multiply. Server-side apply and delete are idempotent,
  so a retried write cannot do anything twice;
- errors converted to `KubeError` subclasses that say what failed and what
  to do (a 409 on apply names the other field manager);
- discovery: a per-client resource cache, refreshed on a miss (a new CRD)
  or on demand, and namespaced-ness lookup;
- raw JSON responses (`serialize=False`): the client's ResourceInstance
  wrappers cost more than the request for a LIST of a thousand objects.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import urllib3
from kubernetes import client as _client
from kubernetes import dynamic as _dynamic
from kubernetes.dynamic.exceptions import (
    DynamicApiError,
    ResourceNotFoundError,
    ResourceNotUniqueError,
)

from promoter import USER_AGENT
from promoter.adapters.kubeconfig import load_configuration
from promoter.core import masking
from promoter.core.applier.errors import (
    KubeConflictError,
    KubeError,
    KubeUnavailableError,
    UnknownKindError,
    hint_for,
)
from promoter.core.applier.keys import CRD, group_of, parse_key

log = logging.getLogger("promoter.applier")

FIELD_MANAGER = "promoter"
_TRANSIENT = frozenset({429, 500, 502, 503, 504})
T = TypeVar("T")
# The client's functions carry no annotations: typed as Any here, once.
k8s_client: Any = _client
dynamic: Any = _dynamic


@dataclass(frozen=True)
class Retry:
    attempts: int = 5
    """Tries per request, the first included."""
    backoff: float = 0.5
    """First wait; doubles each time (with up to 25 % jitter)."""
    max_backoff: float = 8.0
    """Cap for one wait, `Retry-After` included."""
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: float | None) -> float:
        base = min(self.backoff * 2.0 ** (attempt - 1), self.max_backoff)
        if retry_after is not None:
            base = max(base, min(retry_after, self.max_backoff))
        return float(base * (1 + random.random() / 4))  # jitter spreads agents apart


def _message(err: DynamicApiError) -> str:
    """The Status message the API server sent, else the HTTP reason."""
    try:
        body = json.loads(err.body or "{}")
    except (TypeError, ValueError):
        body = {}
    text = body.get("message") if isinstance(body, dict) else None
    return str(text or err.reason or f"HTTP {err.status}")


class Kube:
    """A DynamicClient with retries, error conversion and a discovery cache."""

    def __init__(
        self,
        dyn: Any,
        *,
        namespace: str = "default",
        field_manager: str = FIELD_MANAGER,
        force: bool = True,
        timeout: float = 30.0,
        retry: Retry | None = None,
        cleanup: Callable[[], None] | None = None,
    ) -> None:
        self.dyn = dyn
        self.namespace = namespace
        """The default namespace (kubeconfig context, or the pod's own)."""
        self.field_manager = field_manager
        self.force = force
        self.timeout = timeout
        self.retry = retry or Retry()
        self.requests = 0
        """Requests this wrapper sent (discovery inside the client not included)."""
        self._resources: dict[tuple[str, str], Any] = {}
        self._cleanup = cleanup
        self.impersonating: str | None = None

    # -- construction -------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        kubeconfig: str | os.PathLike[str] | None = None,
        context: str | None = None,
        **options: Any,
    ) -> Kube:
        """From a kubeconfig file (or $KUBECONFIG / ~/.kube/config), or in-cluster
        when no kubeconfig is given and the pod's service account is there."""
        configuration, namespace = load_configuration(kubeconfig, context)
        # Our retry loop is the only one (see the module docstring).
        configuration.retries = False
        if configuration.api_key.get("authorization"):
            masking.register(configuration.api_key["authorization"].split(" ")[-1])
        api = k8s_client.ApiClient(configuration)
        api.user_agent = USER_AGENT
        # A private discovery cache: the client's default is one shared file
        # in /tmp per server URL, which another process may have left stale.
        cache_dir = tempfile.mkdtemp(prefix="promoter-discovery-")
        options.setdefault("namespace", namespace)
        kube = cls(None, cleanup=lambda: shutil.rmtree(cache_dir, ignore_errors=True), **options)
        cache = os.path.join(cache_dir, "cache.json")
        try:
            # The client discovers the API in its constructor: retried like any request.
            kube.dyn = kube._call(
                "discovering the API", lambda: dynamic.DynamicClient(api, cache_file=cache)
            )
        except BaseException:
            kube.close()
            raise
        return kube

    def impersonate(self, user: str | None) -> None:
        """Send every request as `user` (`Impersonate-User`), or as ourselves
        with None. The API server adds a service account's groups itself;
        what the user may do is then its RBAC's decision, not ours."""
        if self.impersonating == user:
            return
        headers = self.dyn.client.default_headers
        if user is None:
            headers.pop("Impersonate-User", None)
        else:
            headers["Impersonate-User"] = user
        self.impersonating = user

    def close(self) -> None:
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None
        if self.dyn is not None:
            self.dyn.client.close()

    # -- the retry loop -----------------------------------------------------------------

    def _call(self, doing: str, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                return fn()
            except DynamicApiError as err:
                status = int(err.status or 0)
                if status not in _TRANSIENT or attempt >= self.retry.attempts:
                    raise self._convert(doing, err) from None
                after = (err.headers or {}).get("Retry-After")
                wait = self.retry.delay(
                    attempt, float(after) if after and after.isdigit() else None
                )
                log.warning("%s: HTTP %s, retrying in %.1fs", doing, status, wait)
            except (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as err:
                if attempt >= self.retry.attempts:
                    raise KubeUnavailableError(
                        f"{doing} failed after {attempt} attempts: {type(err).__name__}: {err}",
                        hint="the API server is unreachable or overloaded; the next round retries",
                    ) from None
                wait = self.retry.delay(attempt, None)
                log.warning("%s: %s, retrying in %.1fs", doing, type(err).__name__, wait)
            self.retry.sleep(wait)

    def _convert(self, doing: str, err: DynamicApiError) -> KubeError:
        status = int(err.status or 0)
        text = masking.mask(_message(err))
        if status in _TRANSIENT:
            return KubeUnavailableError(
                f"{doing} failed after {self.retry.attempts} attempts: HTTP {status}: {text}",
                status=status,
                hint="the API server kept failing; the next round retries",
            )
        if status == 409:
            return KubeConflictError(f"{doing}: conflict: {text}", status=409, hint=hint_for(409))
        hint = hint_for(status, impersonating=self.impersonating is not None)
        return KubeError(f"{doing}: HTTP {status}: {text}", status=status, hint=hint)

    # -- discovery ----------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> Any:
        """The client's Resource for apiVersion/kind; the client refreshes its
        discovery once on a miss, so a CRD established since is found."""
        cached = self._resources.get((api_version, kind))
        if cached is not None:
            return cached

        group, _, version = api_version.rpartition("/")

        def lookup() -> Any:
            # Name the prefix and group: a bare "v1" would make the client
            # fetch the resource list of every group that has a v1.
            return self.dyn.resources.get(
                prefix="apis" if group else "api",
                group=group or None,
                api_version=version,
                kind=kind,
            )

        try:
            found = self._call(f"discovering {api_version} {kind}", lookup)
        except (ResourceNotFoundError, ResourceNotUniqueError) as err:
            raise UnknownKindError(
                f"the cluster does not serve {kind} in {api_version}",
                hint="is its CustomResourceDefinition installed (and Established)?",
            ) from err
        self._resources[(api_version, kind)] = found
        return found

    def resource_for(self, group: str, kind: str) -> Any:
        """The Resource for a group and kind (no version, as inventory keys
        have): the group's preferred version."""
        if not group:
            return self.resource("v1", kind)
        cached = self._resources.get((group, kind))
        if cached is not None:
            return cached

        def lookup() -> list[Any]:
            return list(self.dyn.resources.search(group=group, kind=kind))

        matches = [
            r
            for r in self._call(f"discovering {kind}.{group}", lookup)
            if r.kind == kind and hasattr(r, "namespaced")
        ]
        if not matches:
            raise UnknownKindError(f"the cluster does not serve {kind}.{group}")
        chosen = next((r for r in matches if getattr(r, "preferred", False)), matches[0])
        self._resources[(group, kind)] = chosen
        return chosen

    def resource_for_key(self, key: str) -> Any:
        parsed = parse_key(key)
        return self.resource_for(parsed.group, parsed.kind)

    def namespaced(self, api_version: str, kind: str) -> bool:
        return bool(self.resource(api_version, kind).namespaced)

    def refresh_discovery(self) -> None:
        """Forget what the cluster serves (after CRDs changed)."""
        self._resources.clear()
        self._call("refreshing discovery", self.dyn.resources.invalidate_cache)

    # -- verbs --------------------------------------------------------------------------

    def apply(
        self, body: Mapping[str, Any], *, dry_run: bool = False, force: bool | None = None
    ) -> dict[str, Any]:
        """Server-side apply as `field_manager`; the object the server returns."""
        res = self.resource(str(body["apiVersion"]), str(body["kind"]))
        meta = body.get("metadata") or {}
        force = self.force if force is None else force
        what = "dry-run apply" if dry_run else "apply"

        def send() -> Any:
            return self.dyn.server_side_apply(
                res,
                body=dict(body),
                namespace=meta.get("namespace") if res.namespaced else None,
                field_manager=self.field_manager,
                force_conflicts=True if force else None,
                dry_run="All" if dry_run else None,
                serialize=False,
                _request_timeout=self.timeout,
            )

        return _json(self._call(f"{what} {_describe(body)}", send))

    def get(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        res = self.resource(api_version, kind)
        return self._get(res, namespace, name, f"{kind} {_where(namespace, name)}")

    def get_key(self, key: str) -> dict[str, Any] | None:
        """The live object for an inventory key; None if absent or its kind is gone."""
        try:
            res = self.resource_for_key(key)
        except UnknownKindError:
            return None
        parsed = parse_key(key)
        return self._get(res, parsed.namespace or None, parsed.name, key)

    def _get(self, res: Any, namespace: str | None, name: str, what: str) -> dict[str, Any] | None:
        def send() -> Any:
            return self.dyn.get(
                res,
                name=name,
                namespace=namespace if res.namespaced else None,
                serialize=False,
                _request_timeout=self.timeout,
            )

        try:
            return _json(self._call(f"reading {what}", send))
        except KubeError as err:
            if err.status == 404:
                return None
            raise

    def list_objects(
        self,
        res: Any,
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every object of `res` (in `namespace`, if namespaced and given) in
        ONE request, with apiVersion and kind filled in (LIST items of
        built-in kinds come without them)."""

        def send() -> Any:
            return self.dyn.get(
                res,
                namespace=namespace if res.namespaced else None,
                label_selector=label_selector,
                serialize=False,
                _request_timeout=self.timeout,
            )

        where = f" in {namespace}" if namespace and res.namespaced else ""
        data = _json(self._call(f"listing {res.kind}{where}", send))
        items = data.get("items") or []
        for item in items:
            item.setdefault("apiVersion", res.group_version)
            item.setdefault("kind", res.kind)
        return list(items)

    def delete(self, key: str, *, dry_run: bool = False) -> bool:
        """Delete (background propagation); False when it was already gone."""
        res = self.resource_for_key(key)
        parsed = parse_key(key)

        def send() -> Any:
            return self.dyn.delete(
                res,
                name=parsed.name,
                namespace=parsed.namespace or None,
                propagation_policy="Background",
                dry_run="All" if dry_run else None,
                serialize=False,
                _request_timeout=self.timeout,
            )

        try:
            self._call(f"deleting {key}", send)
        except KubeError as err:
            if err.status == 404:
                return False
            raise
        return True

    def wait_established(
        self,
        names: list[str],
        timeout: float,
        *,
        poll: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Wait until every named CRD is Established (its kinds are served),
        then refresh discovery. KubeError naming the ones that are not."""
        api_version = f"{CRD[0]}/v1"
        deadline = clock() + timeout
        waiting: list[str] = list(names)
        while True:
            still = []
            for name in waiting:
                crd = self.get(api_version, CRD[1], None, name)
                if crd is None or not _established(crd):
                    still.append(name)
            if not still:
                break
            if clock() >= deadline:
                raise KubeError(
                    f"CustomResourceDefinitions not Established after {timeout:g}s: "
                    + ", ".join(sorted(still)),
                    hint="check the CRDs' status conditions (kubectl describe crd NAME)",
                )
            waiting = still
            self.retry.sleep(poll)
        if names:
            self.refresh_discovery()


def _established(crd: Mapping[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def _json(response: Any) -> dict[str, Any]:
    data = response.data if hasattr(response, "data") else response
    parsed = json.loads(data or "{}") if isinstance(data, bytes | str) else data
    return parsed if isinstance(parsed, dict) else {}


def _where(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def _describe(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata") or {}
    group = group_of(str(body.get("apiVersion", "")))
    return f"{group}/{body.get('kind')}/{meta.get('namespace') or ''}/{meta.get('name')}"
