"""Read Argo CD Applications and Flux Kustomizations / HelmReleases: from the
Kubernetes API (the resources their controllers write status to), or, for
Argo CD with `server:`, from Argo CD's REST API with $ARGOCD_AUTH_TOKEN.

An object that is not there is reported as a degraded state ("not found"),
so a check says which name is wrong instead of failing as a whole.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from promoter.core import masking
from promoter.core.applier.errors import ApplierError, KubeError, UnknownKindError
from promoter.core.config.model import FLUX_NAMESPACE, ApplierSpec, ArgoCDApplier, FluxApplier
from promoter.core.config.templates import expand_branch
from promoter.core.controllers import (
    DEGRADED,
    UNREADABLE,
    ControllerState,
    agent_state,
    argocd_state,
    flux_state,
)
from promoter.errors import InputError

if TYPE_CHECKING:
    from promoter.adapters.kube import Kube

ARGOCD_API = "argoproj.io/v1alpha1"
KUSTOMIZATION_API = "kustomize.toolkit.fluxcd.io/v1"
HELMRELEASE_API = "helm.toolkit.fluxcd.io/v2"
TOKEN_VARIABLE = "ARGOCD_AUTH_TOKEN"
REST_TIMEOUT_S = 20


def _missing(applier: str, what: str, why: str) -> ControllerState:
    return ControllerState(applier, what, DEGRADED, why)


class ControllerReader:
    """Reads what an environment's controller reports. `kube` is called at
    most once, on the first Kubernetes read (a REST-only setup needs no
    kubeconfig)."""

    def __init__(self, kube: Callable[[], Kube], environ: Mapping[str, str] | None = None) -> None:
        self._connect = kube
        self._kube: Kube | None = None
        self.environ = dict(os.environ if environ is None else environ)

    @property
    def kube(self) -> Kube:
        if self._kube is None:
            self._kube = self._connect()
        return self._kube

    def close(self) -> None:
        if self._kube is not None:
            self._kube.close()

    def states(self, spec: ApplierSpec, env: str) -> list[ControllerState]:
        if isinstance(spec, ArgoCDApplier):
            return self._argocd(spec, env)
        assert isinstance(spec, FluxApplier)
        return self._flux(spec, env)

    # -- Argo CD

    def _argocd(self, spec: ArgoCDApplier, env: str) -> list[ControllerState]:
        read = self._argocd_rest if spec.server else self._argocd_kube
        apps, listed = read(spec, env)
        out = [
            argocd_state(apps[name])
            if name in apps
            else _missing(
                "argocd",
                f"Application {spec.namespace}/{name}",
                f"not found in {spec.server or 'the cluster'}",
            )
            for name in (expand_branch(a, env) for a in spec.applications)
        ]
        if spec.application_set:
            app_set = expand_branch(spec.application_set, env)
            owned = [app for app in listed if _owned_by(app, app_set)]
            out += [argocd_state(app) for app in owned]
            if not owned:
                out.append(
                    _missing(
                        "argocd",
                        f"ApplicationSet {spec.namespace}/{app_set}",
                        "generated no Application (or does not exist)",
                    )
                )
        return out

    def _argocd_kube(
        self, spec: ArgoCDApplier, env: str
    ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
        found: dict[str, dict[str, Any]] = {}
        for name in (expand_branch(a, env) for a in spec.applications):
            app = self._kube_get(ARGOCD_API, "Application", spec.namespace, name)
            if app is not None:
                found[name] = app
        listed: list[dict[str, Any]] = []
        if spec.application_set:
            res = self._resource(ARGOCD_API, "Application")
            listed = self.kube.list_objects(res, spec.namespace)
        return found, listed

    def _argocd_rest(
        self, spec: ArgoCDApplier, env: str
    ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
        token = self.environ.get(TOKEN_VARIABLE)
        if not token:
            raise InputError(
                f"reading Argo CD at {spec.server} needs a token in ${TOKEN_VARIABLE}",
                hint="create one with `argocd account generate-token` (read access to "
                "applications), or drop `server:` to read the Application resources",
            )
        masking.register(token)
        found: dict[str, dict[str, Any]] = {}
        for name in (expand_branch(a, env) for a in spec.applications):
            app = self._rest(spec, token, f"/api/v1/applications/{name}")
            if app is not None:
                found[name] = app
        listed: list[dict[str, Any]] = []
        if spec.application_set:
            answer = self._rest(spec, token, "/api/v1/applications") or {}
            listed = list(answer.get("items") or [])
        return found, listed

    def _rest(self, spec: ArgoCDApplier, token: str, path: str) -> dict[str, Any] | None:
        import requests

        url = f"{spec.server}{path}"
        try:
            answer = requests.get(
                url,
                params={"appNamespace": spec.namespace},
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=REST_TIMEOUT_S,
            )
        except requests.RequestException as err:
            raise ApplierError(
                f"Argo CD at {spec.server} did not answer: {type(err).__name__}",
                hint="check `server:` in promoter.yaml and that this runner can reach it",
            ) from None
        if answer.status_code in (403, 404):
            # Argo CD answers 403 for an Application the token may not see *or*
            # that does not exist, so as not to reveal which.
            return None
        if answer.status_code == 401:
            raise ApplierError(
                f"Argo CD at {spec.server} refused the token in ${TOKEN_VARIABLE} (401)",
                hint="generate a new token: `argocd account generate-token`",
            )
        if answer.status_code >= 400:
            raise ApplierError(f"Argo CD at {spec.server} answered {answer.status_code} for {path}")
        data = answer.json()
        return data if isinstance(data, dict) else None

    # -- Flux

    def _flux(self, spec: FluxApplier, env: str) -> list[ControllerState]:
        out = []
        for api, kind, entries in (
            (KUSTOMIZATION_API, "Kustomization", spec.kustomizations),
            (HELMRELEASE_API, "HelmRelease", spec.helm_releases),
        ):
            for entry in entries:
                namespace, _, name = expand_branch(entry, env).rpartition("/")
                namespace = namespace or FLUX_NAMESPACE
                obj = self._kube_get(api, kind, namespace, name)
                out.append(
                    flux_state(obj)
                    if obj is not None
                    else _missing("flux", f"{kind} {namespace}/{name}", "not found in the cluster")
                )
        return out

    # -- Kubernetes

    def _resource(self, api_version: str, kind: str) -> Any:
        try:
            return self.kube.resource(api_version, kind)
        except UnknownKindError:
            raise ApplierError(
                f"the cluster does not serve {kind} ({api_version})",
                hint="is the controller installed there? Check the kubeconfig's context",
            ) from None

    def _kube_get(self, api: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        self._resource(api, kind)
        try:
            return self.kube.get(api, kind, namespace, name)
        except KubeError as err:
            if err.status == 403:
                raise ApplierError(
                    f"reading {kind} {namespace}/{name} was forbidden (403)",
                    hint=f"grant this identity get/list on {kind.lower()}s in {namespace}",
                ) from None
            raise


def read_agent_status(url: str) -> ControllerState:
    """The bundled agent's last round, from its `/status` endpoint."""
    import requests

    endpoint = url.rstrip("/") + ("" if url.rstrip("/").endswith("/status") else "/status")
    try:
        answer = requests.get(endpoint, timeout=REST_TIMEOUT_S / 4)
        answer.raise_for_status()
        data = answer.json()
    except (requests.RequestException, ValueError) as err:
        return ControllerState(
            "promoter",
            f"promoter agent ({url})",
            UNREADABLE,
            f"{type(err).__name__} from {endpoint}",
        )
    return agent_state(data if isinstance(data, dict) else {}, url)


def _owned_by(app: Mapping[str, Any], app_set: str) -> bool:
    refs = (app.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("kind") == "ApplicationSet" and r.get("name") == app_set for r in refs)
