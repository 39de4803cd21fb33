"""Generate a synthetic environment monorepo for benchmarks.

N services x 3 environments (dev, staging, prod). Services cycle through five
editor kinds, each with its own way of locating files in promoter.yaml:

==========  ===================================================  ==========================
kind        files (per environment)                              promoter.yaml path
==========  ===================================================  ==========================
kustomize   apps/SVC/overlays/ENV/{kustomization,patch-*}.yaml   ``defaults.path``
            (+ apps/SVC/base/ shared by the overlays)
helm        charts/SVC/values-ENV.yaml                           ``path`` (a file)
manifest    clusters/ENV/SVC/deployment.yaml                     ``path`` + ``paths.prod``
compose     compose/SVC/docker-compose.ENV.yaml                  ``path`` (a file)
setter      config/ENV/SVC.yaml (``# {"$promoter": ...}``)       ``paths`` (every env)
==========  ===================================================  ==========================

Files are realistic in size (comments, a few dozen lines) and valid for
their tools: every kustomize overlay renders with ``kubectl kustomize``.
Output is deterministic: the same N gives byte-identical trees.

Usage: ``python benchmarks/generate.py --services 1000 OUT_DIR``
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ENVIRONMENTS = ("dev", "staging", "prod")
KINDS = ("kustomize", "helm", "manifest", "compose", "setter")
WORDS = (
    "api",
    "web",
    "worker",
    "billing",
    "search",
    "auth",
    "cart",
    "checkout",
    "notify",
    "reports",
    "ledger",
    "catalog",
    "pricing",
    "inventory",
    "gateway",
    "media",
)
REPLICAS = {"dev": 1, "staging": 2, "prod": 4}
LOG_LEVEL = {"dev": "debug", "staging": "info", "prod": "warn"}
CPU = {"dev": "50m", "staging": "100m", "prod": "250m"}
MEMORY = {"dev": "128Mi", "staging": "256Mi", "prod": "512Mi"}


@dataclass(frozen=True)
class Service:
    index: int
    name: str
    kind: str
    image: str
    """Repository, no tag, as written in promoter.yaml."""

    def tag(self, env: str) -> str:
        """The tag the generated repo runs in `env`: dev is ahead of staging, staging of prod."""
        minor, patch = divmod(self.index * 7, 50)
        return f"1.{minor % 40}.{patch + (2 - ENVIRONMENTS.index(env))}"


def service(index: int) -> Service:
    kind = KINDS[index % len(KINDS)]
    name = f"{WORDS[index % len(WORDS)]}-{index:05d}"
    if kind == "helm" and index % 2 == 0:
        image = f"registry.example.com:5000/team/{name}"
    elif kind == "compose":
        image = f"quay.io/acme/{name}"
    else:
        image = f"ghcr.io/acme/{name}"
    return Service(index, name, kind, image)


def services(count: int) -> list[Service]:
    return [service(i) for i in range(count)]


def path_of(svc: Service, env: str) -> str:
    """Where promoter.yaml says `svc` lives in `env` (mirrors the config below)."""
    if svc.kind == "kustomize":
        return f"apps/{svc.name}/overlays/{env}"
    if svc.kind == "helm":
        return f"charts/{svc.name}/values-{env}.yaml"
    if svc.kind == "manifest":
        cluster = "prod-eu" if env == "prod" else env
        return f"clusters/{cluster}/{svc.name}"
    if svc.kind == "compose":
        return f"compose/{svc.name}/docker-compose.{env}.yaml"
    return f"config/{env}/{svc.name}.yaml"


# --------------------------------------------------------------------------- promoter.yaml


def config_text(all_services: list[Service]) -> str:
    out = [
        "# Environment repository for the shop platform (generated for benchmarks).",
        "# yaml-language-server: $schema=../docs/promoter.schema.json",
        "version: 1",
        "environments:",
        "  - name: dev",
        "    description: Integration; every merge to main lands here.",
        "  - name: staging",
        "    from: dev",
        "  - name: prod",
        "    from: staging",
        "    mode: pull-request     # reviewed promotion",
        "defaults:",
        "  path: apps/{service}/overlays/{env}   # kustomize overlays",
        "services:",
    ]
    for svc in all_services:
        if svc.index % 50 == 0:
            out.append(f"  # --- services {svc.index} to {svc.index + 49}")
        out.append(f"  - name: {svc.name}")
        out.append(f"    image: {svc.image}")
        if svc.kind == "helm":
            out.append("    path: charts/{service}/values-{env}.yaml")
        elif svc.kind == "manifest":
            out.append("    path: clusters/{env}/{service}")
            out.append('    paths: {prod: "clusters/prod-eu/{service}"}   # prod runs in the EU')
        elif svc.kind == "compose":
            out.append("    path: compose/{service}/docker-compose.{env}.yaml")
        elif svc.kind == "setter":
            out.append("    paths:")
            for env in ENVIRONMENTS:
                out.append(f"      {env}: config/{env}/{{service}}.yaml")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- kustomize


def kustomize_base(svc: Service) -> dict[str, str]:
    n = svc.name
    deployment = f"""\
# Base Deployment and Service for {n}; overlays set the image tag.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {n}
  labels:
    app.kubernetes.io/name: {n}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {n}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {n}
    spec:
      serviceAccountName: {n}
      containers:
        - name: {n}
          image: {svc.image}
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: {n}-config
          readinessProbe:
            httpGet: {{path: /healthz, port: http}}
            periodSeconds: 5
          resources:
            requests: {{cpu: 10m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: {n}
spec:
  selector:
    app.kubernetes.io/name: {n}
  ports:
    - name: http
      port: 80
      targetPort: http
"""
    kustomization = f"""\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
configMapGenerator:
  - name: {n}-config
    literals:
      - LOG_LEVEL=info
      - PORT=8080
"""
    return {"deployment.yaml": deployment, "kustomization.yaml": kustomization}


def kustomize_overlay(svc: Service, env: str) -> dict[str, str]:
    n = svc.name
    kustomization = f"""\
# {n} in {env}.
# The images: entry is bumped by promoter; keep the rest hand-written.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop-{env}
resources:
  - ../../base
labels:
  - pairs:
      app.kubernetes.io/part-of: shop
      environment: {env}
    includeSelectors: false
patches:
  - path: patch-resources.yaml
    target:
      kind: Deployment
      name: {n}
configMapGenerator:
  - name: {n}-config
    behavior: merge
    literals:
      - LOG_LEVEL={LOG_LEVEL[env]}
      - ENVIRONMENT={env}
replicas:
  - name: {n}
    count: {REPLICAS[env]}
images:
  - name: {svc.image}
    newTag: "{svc.tag(env)}"   # bumped by promoter
"""
    patch = f"""\
# Requests and limits of {n} in {env}.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {n}
spec:
  template:
    spec:
      containers:
        - name: {n}
          resources:
            requests:
              cpu: {CPU[env]}
              memory: {MEMORY[env]}
            limits:
              memory: {MEMORY[env]}
          env:
            - name: OTEL_SERVICE_NAME
              value: {n}
"""
    return {"kustomization.yaml": kustomization, "patch-resources.yaml": patch}


# --------------------------------------------------------------------------- helm


def helm_values(svc: Service, env: str) -> str:
    n = svc.name
    if svc.index % 2 == 0:
        registry, _, repository = svc.image.partition("/")
        image = f"""\
image:
  registry: {registry}
  repository: {repository}
  tag: "{svc.tag(env)}"
  pullPolicy: IfNotPresent"""
    else:
        image = f"""\
image:
  repository: {svc.image}
  tag: {svc.tag(env)}   # promoter keeps this in step
  pullPolicy: IfNotPresent"""
    return f"""\
# Helm values for {n} in {env} (chart: generic-service 4.x).
replicaCount: {REPLICAS[env]}

{image}

imagePullSecrets:
  - name: registry-credentials

serviceAccount:
  create: true
  name: {n}

podAnnotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: "9090"

service:
  type: ClusterIP
  port: 80

ingress:
  enabled: {"true" if env != "dev" else "false"}
  className: nginx
  hosts:
    - host: {n}.{env}.example.com
      paths:
        - path: /
          pathType: Prefix

resources:
  requests: {{cpu: {CPU[env]}, memory: {MEMORY[env]}}}
  limits: {{memory: {MEMORY[env]}}}

autoscaling:
  enabled: {"true" if env == "prod" else "false"}
  minReplicas: {REPLICAS[env]}
  maxReplicas: {REPLICAS[env] * 4}
  targetCPUUtilizationPercentage: 70

env:
  LOG_LEVEL: {LOG_LEVEL[env]}
  ENVIRONMENT: {env}
"""


# --------------------------------------------------------------------------- manifests


def manifest(svc: Service, env: str) -> str:
    n = svc.name
    ref = f"{svc.image}:{svc.tag(env)}"
    return f"""\
# Plain manifests for {n} in {env}: applied as they are, no kustomize.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {n}
  namespace: shop-{env}
  labels:
    app.kubernetes.io/name: {n}
    app.kubernetes.io/part-of: shop
spec:
  replicas: {REPLICAS[env]}
  selector:
    matchLabels:
      app.kubernetes.io/name: {n}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {n}
    spec:
      initContainers:
        - name: migrate
          image: {ref}   # same image as the app
          args: ["migrate", "--wait"]
      containers:
        - name: {n}
          image: {ref}
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: {LOG_LEVEL[env]}
          resources:
            requests: {{cpu: {CPU[env]}, memory: {MEMORY[env]}}}
        - name: log-shipper
          image: ghcr.io/acme/log-shipper:2.3.1   # not ours to bump
---
apiVersion: v1
kind: Service
metadata:
  name: {n}
  namespace: shop-{env}
spec:
  selector:
    app.kubernetes.io/name: {n}
  ports:
    - port: 80
      targetPort: 8080
"""


# --------------------------------------------------------------------------- compose


def compose(svc: Service, env: str) -> str:
    n = svc.name
    return f"""\
# Compose file for {n} in {env} (edge hosts run compose, not Kubernetes).
name: {n}-{env}
services:
  {n}:
    image: {svc.image}:{svc.tag(env)}
    restart: unless-stopped
    ports:
      - "8080:8080"
    environment:
      LOG_LEVEL: {LOG_LEVEL[env]}
      REDIS_URL: redis://cache:6379/0
    depends_on:
      cache:
        condition: service_healthy
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:8080/healthz"]
      interval: 10s
      retries: 3
  cache:
    image: redis:7.2-alpine
    command: ["redis-server", "--save", ""]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 5s
volumes:
  data: {{}}
"""


# --------------------------------------------------------------------------- setter


def setter(svc: Service, env: str) -> str:
    n = svc.name
    if svc.index % 2 == 0:
        image = f"""\
        - name: image.repository
          value: {svc.image}
        - name: image.tag
          value: "{svc.tag(env)}" # {{"$promoter": "{n}:tag"}}"""
    else:
        image = f"""\
        - name: image.full
          value: {svc.image}:{svc.tag(env)} # {{"$promoter": "{n}"}}"""
    return f"""\
# Argo CD Application for {n} in {env}.
# The setter marker tells promoter which field holds the image.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {n}-{env}
  namespace: argocd
  labels:
    environment: {env}
spec:
  project: shop
  source:
    repoURL: https://charts.example.com
    chart: generic-service
    targetRevision: 4.2.0
    helm:
      releaseName: {n}
      parameters:
{image}
        - name: replicaCount
          value: "{REPLICAS[env]}"
  destination:
    server: https://kubernetes.default.svc
    namespace: shop-{env}
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
"""


# --------------------------------------------------------------------------- tree


def files(svc: Service) -> Iterator[tuple[str, str]]:
    """(path relative to the repo root, text) of every file of `svc`."""
    if svc.kind == "kustomize":
        for name, text in kustomize_base(svc).items():
            yield f"apps/{svc.name}/base/{name}", text
        for env in ENVIRONMENTS:
            for name, text in kustomize_overlay(svc, env).items():
                yield f"{path_of(svc, env)}/{name}", text
        return
    single: dict[str, Callable[[Service, str], str]] = {
        "helm": helm_values,
        "compose": compose,
        "setter": setter,
    }
    for env in ENVIRONMENTS:
        if svc.kind == "manifest":
            yield f"{path_of(svc, env)}/deployment.yaml", manifest(svc, env)
        else:
            yield path_of(svc, env), single[svc.kind](svc, env)


README = """\
# shop environments (generated)

Synthetic environment repository for promoter benchmarks: {count} services x
3 environments. See benchmarks/generate.py in the promoter repository.
"""


def generate(count: int, out: Path) -> int:
    """Write the repository for `count` services into `out`; returns files written."""
    all_services = services(count)
    written = 0
    made: set[str] = set()

    def write(rel: str, text: str) -> None:
        nonlocal written
        path = os.path.join(out, rel)
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        written += 1

    out.mkdir(parents=True, exist_ok=True)
    write("promoter.yaml", config_text(all_services))
    write("README.md", README.format(count=count))
    for svc in all_services:
        for rel, text in files(svc):
            write(rel, text)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=1000, help="number of services")
    parser.add_argument("out", type=Path, help="output directory (created; must be empty)")
    args = parser.parse_args(argv)
    if args.services < 1:
        parser.error("--services must be at least 1")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty")
    count = generate(args.services, args.out)
    print(f"wrote {count} files for {args.services} services x {len(ENVIRONMENTS)} envs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
