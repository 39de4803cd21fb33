"""The applier's cost against the fake API server (tests/kubefake):

- a full apply of N objects (default 1,000) into an empty cluster;
- a no-change round over the same N objects: API requests and time.
  Target (issue 5): requests grow with the number of kinds, not objects.

The objects are built in memory (render cost is measured in run.py), spread
over four kinds in one namespace. Each repeat starts a fresh fake.

Then the same through the whole agent from an environment repository whose
environment includes Helm (issue 11): half the objects come from Helm
charts (one 50-object chart, a release per service, through the
environment's `render:`), half from plain manifests; the agent clones the
repository from a local bare remote, as in a cluster. Its no-change round
must still cost requests per kind, and render nothing (the commit was
rendered already). Needs promoter[helm].

    python benchmarks/agent.py                 # 1,000 objects, 5 repeats
    python benchmarks/agent.py --objects 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # measure this checkout's promoter

from promoter.adapters.kube import Kube  # noqa: E402
from promoter.core.objects import Obj  # noqa: E402
from promoter.workflows.apply_round import Reconciler, Settings  # noqa: E402
from tests.kubefake import FakeKube  # noqa: E402

KINDS = ("ConfigMap", "ServiceAccount", "Service", "Deployment")


def _body(kind: str, name: str) -> dict[str, Any]:
    if kind == "ConfigMap":
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "data": {"k": name}}
    if kind == "ServiceAccount":
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    if kind == "Service":
        spec = {"selector": {"app": name}, "ports": [{"port": 80}]}
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "spec": spec}
    container = {"name": "app", "image": f"ghcr.io/acme/{name}:1.0.0"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def objects(count: int) -> list[Obj]:
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        body = _body(kind, f"obj-{i:05d}")
        out.append(Obj(body["apiVersion"], kind, "", body["metadata"]["name"], body))
    return out


def one(count: int) -> tuple[float, float, int, dict[str, int]]:
    """(full apply s, no-change round s, no-change requests, requests by verb)."""
    objs = objects(count)
    with tempfile.TemporaryDirectory() as tmp, FakeKube(auto_ready=True) as fake:
        kube = Kube.connect(fake.write_kubeconfig(Path(tmp) / "kubeconfig"))
        try:
            rec = Reconciler(kube, Settings("bench", health_timeout=60, health_poll=0.1))
            start = time.perf_counter()
            applied = rec.run(lambda: objs)
            full = time.perf_counter() - start
            assert applied.ok and len(applied.created) == count, applied.error
            assert rec.run(lambda: objs).ok  # absorb status writes since the apply
            fake.reset_requests()
            start = time.perf_counter()
            quiet = rec.run(lambda: objs)
            idle = time.perf_counter() - start
            assert quiet.ok and not quiet.applied and quiet.checked == 0, quiet.text()
            verbs: dict[str, int] = {}
            for record in fake.requests:
                verbs[record.verb] = verbs.get(record.verb, 0) + 1
            return full, idle, len(fake.requests), verbs
        finally:
            kube.close()


CHART_OBJECTS = 50
_TEMPLATE = """\
{{- range $i := until (int .Values.count) }}
{{- $name := printf "%s-%03d" $.Release.Name $i }}
---
{{- if eq (mod $i 4) 0 }}
apiVersion: v1
kind: ConfigMap
metadata: {name: {{ $name }}}
data: {k: {{ $name | quote }}}
{{- else if eq (mod $i 4) 1 }}
apiVersion: v1
kind: ServiceAccount
metadata: {name: {{ $name }}}
{{- else if eq (mod $i 4) 2 }}
apiVersion: v1
kind: Service
metadata: {name: {{ $name }}}
spec: {selector: {app: {{ $name }}}, ports: [{port: 80}]}
{{- else }}
apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ $name }}}
spec:
  replicas: 1
  selector: {matchLabels: {app: {{ $name }}}}
  template:
    metadata: {labels: {app: {{ $name }}}}
    spec:
      containers: [{name: app, image: "{{ $.Values.image.repository }}:{{ $.Values.image.tag }}"}]
{{- end }}
{{- end }}
"""


def helm_repo(root: Path, count: int) -> int:
    """An environment repository whose `dev` renders its services through a
    chart (half the objects) plus one directory of plain manifests; the
    number of Helm services."""
    charts = max(1, count // 2 // CHART_OBJECTS)
    (root / "charts/app/templates").mkdir(parents=True)
    (root / "charts/app/Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    (root / "charts/app/values.yaml").write_text(f"count: {CHART_OBJECTS}\n")
    (root / "charts/app/templates/objects.yaml").write_text(_TEMPLATE)
    (root / "dev").mkdir()
    for i in range(charts):
        (root / f"dev/svc-{i:02d}.yaml").write_text(
            f"image: {{repository: ghcr.io/acme/svc-{i:02d}, tag: 1.0.0}}\n"
        )
    import yaml

    plain = [o.body for o in objects(count - charts * CHART_OBJECTS)]
    (root / "plain").mkdir()
    (root / "plain/objects.yaml").write_text(yaml.safe_dump_all(plain))
    services = "".join(
        f"  - {{name: svc-{i:02d}, image: ghcr.io/acme/svc-{i:02d}, path: dev/svc-{i:02d}.yaml}}\n"
        for i in range(charts)
    )
    (root / "promoter.yaml").write_text(
        "version: 1\nenvironments:\n  - name: dev\n"
        "    render: {helm: {chart: charts/app}}\nservices:\n" + services
        + "  - {name: plain, image: ghcr.io/acme/plain, path: plain, render: plain}\n"
    )  # fmt: skip
    return charts


def one_from_repo(count: int) -> tuple[float, float, float, int, dict[str, int], int, int]:
    """(first round s, no-change round s, its render s, requests, by verb,
    renders in the no-change round, Helm services) through the agent."""
    import subprocess

    from promoter.adapters.agent_source import GitSource
    from promoter.adapters.render import renderer
    from promoter.workflows.agent import Agent, AgentOptions

    renders: list[float] = []
    real = renderer._render_environment

    def timed_render(*args: Any) -> Any:
        start = time.perf_counter()
        try:
            return real(*args)
        finally:
            renders.append(time.perf_counter() - start)

    renderer._render_environment = timed_render  # type: ignore[assignment]
    renderer._cache.clear()
    renderer._env_cache.clear()
    with tempfile.TemporaryDirectory() as tmp, FakeKube(auto_ready=True) as fake:
        work = Path(tmp) / "env"
        charts = helm_repo(work, count)
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@127.0.0.1"]
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "seed"]):
            subprocess.run([*git, *args], cwd=work, check=True)
        bare = Path(tmp) / "env.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
        kube = Kube.connect(fake.write_kubeconfig(Path(tmp) / "kubeconfig"))
        try:
            rec = Reconciler(kube, Settings("dev", health_timeout=60, health_poll=0.1))
            source = GitSource(bare.as_uri(), Path(tmp) / "agent", "dev")
            agent = Agent(source, rec, AgentOptions("dev"))
            start = time.perf_counter()
            first = agent.round()
            full = time.perf_counter() - start
            assert first.ok and len(first.created) == count, first.text()
            assert agent.round().ok  # absorb status writes since the apply
            fake.reset_requests()
            renders.clear()
            start = time.perf_counter()
            quiet = agent.round()
            idle = time.perf_counter() - start
            assert quiet.ok and not quiet.applied, quiet.text()
            verbs: dict[str, int] = {}
            for record in fake.requests:
                verbs[record.verb] = verbs.get(record.verb, 0) + 1
            return full, idle, sum(renders), len(fake.requests), verbs, len(renders), charts
        finally:
            kube.close()
            renderer._render_environment = real


def _helm_rows(count: int, repeat: int) -> bool:
    try:
        import helm_python  # noqa: F401
    except ImportError:
        print("with Helm: skipped (pip install 'promoter[helm]')")
        return True
    runs = [one_from_repo(count) for _ in range(repeat)]
    full = statistics.median(r[0] for r in runs)
    idle = statistics.median(r[1] for r in runs)
    requests = statistics.median(r[3] for r in runs)
    renders = max(r[5] for r in runs)
    verbs, charts = runs[-1][4], runs[-1][6]
    print(f"through the agent from a git remote: {charts} Helm releases of {CHART_OBJECTS} "
          f"objects + {count - charts * CHART_OBJECTS} plain, {count} objects")  # fmt: skip
    print(f"first round:      median {full:7.3f} s   (clone, render, apply, health)")
    print(f"no-change round:  median {idle:7.3f} s   requests: {requests:g} "
          f"({', '.join(f'{v} {k}' for k, v in sorted(verbs.items()))}); "
          f"renderer runs: {renders}")  # fmt: skip
    # One LIST per kind, one GET of the inventory, one ls-remote (no API request).
    target = len(KINDS) + 1
    ok = requests <= target and renders == 0
    print(f"target: requests <= kinds + 1 = {target}, nothing re-rendered: "
          f"{'ok' if ok else 'MISSED'}")  # fmt: skip
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    runs = [one(args.objects) for _ in range(args.repeat)]
    full = statistics.median(r[0] for r in runs)
    idle = statistics.median(r[1] for r in runs)
    requests = statistics.median(r[2] for r in runs)
    verbs = runs[-1][3]
    print(f"objects: {args.objects} ({len(KINDS)} kinds, 1 namespace); repeats: {args.repeat}")
    print(f"full apply:       median {full:7.3f} s   ({full / args.objects * 1000:.2f} ms/object)")
    print(f"no-change round:  median {idle:7.3f} s   requests: {requests:g} "
          f"({', '.join(f'{v} {k}' for k, v in sorted(verbs.items()))})")  # fmt: skip
    target = len(KINDS) + 1  # one LIST per kind, one GET of the inventory
    verdict = "ok" if requests <= target else "MISSED"
    print(f"target: requests <= kinds + 1 = {target}: {verdict}")
    print()
    helm_ok = _helm_rows(args.objects, args.repeat)
    return 0 if requests <= target and helm_ok else 1


if __name__ == "__main__":
    sys.exit(main())
