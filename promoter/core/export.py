"""`promoter export argocd|flux`: the controller's own resources, generated
from promoter.yaml so the two never disagree about what lives where.

- Argo CD: one ApplicationSet whose list generator has an element per
  environment and path, each Application named `<service>-<env>` (or
  `<env>-<path>` when several services share a path) with the source that
  renders like promoter renders it (a directory, a Helm chart with the
  environment's values files, a Jsonnet program with its variables) and the
  environment's sync policy (`applier.argocd.sync`, default automated).
- Flux: a GitRepository per branch and a Kustomization per environment and
  path, each depending (`dependsOn`) on the same service's Kustomization in
  the environment it is promoted from. Flux's Kustomization builds
  directories only: Helm- and Jsonnet-rendered services are left out and
  named in a comment.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from promoter.core.config.model import (
    FLUX_NAMESPACE,
    ArgoCDApplier,
    Config,
    Environment,
    HelmRender,
    JsonnetRender,
)
from promoter.core.config.templates import expand_path

ARGOCD_NAMESPACE = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
_FILE = re.compile(r"\.(ya?ml|json)$")


@dataclass
class _Unit:
    """One Application / Kustomization: a path of an environment."""

    env: Environment
    services: list[str]
    source: dict[str, Any]
    kind: str
    """directory, file (one manifest file of a directory), helm or jsonnet."""
    key: str = ""
    upstream: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-")


def _units(config: Config, default_branch: str) -> list[_Unit]:
    units: dict[tuple[str, str], _Unit] = {}
    for env in config.promotion_order():
        revision = config.branch_for(env) or default_branch
        for service in config.services:
            rel = config.path_for(service, env)
            spec = config.render_for(service, env)

            def fill(text: str, service: str = service.name, env: str = env.name) -> str:
                return expand_path(text, service, env)

            source: dict[str, Any] = {"targetRevision": revision}
            if isinstance(spec, HelmRender):
                chart = fill(spec.chart)
                values = [fill(v) for v in spec.values] if spec.values is not None else [rel]
                helm: dict[str, Any] = {
                    "releaseName": fill(spec.release) if spec.release else service.name,
                    "valueFiles": [posixpath.relpath(v, chart) for v in values],
                }
                if spec.set:
                    helm["valuesObject"] = dict(spec.set)
                source.update(path=chart, helm=helm)
                kind = "helm"
            elif isinstance(spec, JsonnetRender):
                main = fill(spec.main)
                jsonnet: dict[str, Any] = {}
                if spec.ext_vars:
                    jsonnet["extVars"] = [
                        {"name": k, "value": fill(v)} for k, v in spec.ext_vars.items()
                    ]
                if spec.tlas:
                    jsonnet["tlas"] = [{"name": k, "value": fill(v)} for k, v in spec.tlas.items()]
                if spec.libs:
                    jsonnet["libs"] = [fill(p) for p in spec.libs]
                source.update(
                    path=posixpath.dirname(main) or ".",
                    directory={"include": posixpath.basename(main), "jsonnet": jsonnet},
                )
                kind = "jsonnet"
            elif _FILE.search(rel):
                source.update(
                    path=posixpath.dirname(rel) or ".",
                    directory={"include": posixpath.basename(rel)},
                )
                kind = "file"
            else:
                source.update(path=rel)
                kind = "directory"
            key = repr(sorted(source.items()))
            unit = units.get((env.name, key))
            if unit is None:
                units[(env.name, key)] = _Unit(env, [service.name], source, kind)
            else:
                unit.services.append(service.name)
    out = list(units.values())
    for unit in out:
        unit.key = (
            _slug(f"{unit.services[0]}-{unit.env.name}")
            if len(unit.services) == 1
            else _slug(f"{unit.env.name}-{unit.source['path']}")
        )
    for unit in out:
        upstream = [
            u.key
            for u in out
            if u.env.name == unit.env.from_ and set(u.services) & set(unit.services)
        ]
        unit.upstream = upstream
    return out


def argocd_application_set(
    config: Config, repo_url: str, *, name: str, default_branch: str = "main"
) -> dict[str, Any]:
    elements = []
    for unit in _units(config, default_branch):
        spec = unit.env.applier
        sync = spec.sync if isinstance(spec, ArgoCDApplier) else "automated"
        elements.append(
            {
                "name": unit.key,
                "env": unit.env.name,
                "services": ",".join(unit.services),
                "automated": sync == "automated",
                "source": {"repoURL": repo_url, **unit.source},
            }
        )
    patch = (
        "spec:\n"
        "  source: {{ toJson .source }}\n"
        "  {{- if .automated }}\n"
        "  syncPolicy:\n"
        "    automated: {prune: true, selfHeal: true}\n"
        "  {{- end }}\n"
    )
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{"list": {"elements": elements}}],
            "template": {
                "metadata": {
                    "name": "{{ .name }}",
                    "labels": {"promoter.dev/env": "{{ .env }}"},
                    "annotations": {"promoter.dev/services": "{{ .services }}"},
                },
                "spec": {
                    "project": "default",
                    "source": {"repoURL": repo_url, "path": "{{ .source.path }}"},
                    "destination": {"server": IN_CLUSTER},
                },
            },
            "templatePatch": patch,
        },
    }


def flux_resources(
    config: Config, repo_url: str, *, name: str, default_branch: str = "main"
) -> tuple[list[dict[str, Any]], list[str]]:
    """(GitRepositories + Kustomizations, services left out and why)."""
    units = _units(config, default_branch)
    sources: dict[str, str] = {}
    docs: list[dict[str, Any]] = []
    skipped = []
    exported = {u.key for u in units if u.kind == "directory"}
    for unit in units:
        if unit.kind != "directory":
            why = (
                "one file of a directory; a Flux Kustomization applies whole directories"
                if unit.kind == "file"
                else f"rendered by {unit.kind}, which a Flux Kustomization does not build"
            )
            skipped.append(f"{', '.join(unit.services)} in {unit.env.name}: {why}")
            continue
        upstream = [k for k in unit.upstream if k in exported]
        branch = unit.source["targetRevision"]
        source = sources.setdefault(branch, name if not sources else _slug(f"{name}-{branch}"))
        docs.append(
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {
                    "name": unit.key,
                    "namespace": FLUX_NAMESPACE,
                    "labels": {"promoter.dev/env": unit.env.name},
                },
                "spec": {
                    "interval": "5m",
                    "path": posixpath.join(".", unit.source["path"]),
                    "prune": True,
                    "sourceRef": {"kind": "GitRepository", "name": source},
                    **({"dependsOn": [{"name": k} for k in upstream]} if upstream else {}),
                },
            }
        )
    repos = [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": source, "namespace": FLUX_NAMESPACE},
            "spec": {"interval": "1m", "url": repo_url, "ref": {"branch": branch}},
        }
        for branch, source in sources.items()
    ]
    return repos + docs, skipped
