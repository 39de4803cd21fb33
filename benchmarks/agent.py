"""The applier's cost against the fake API server (tests/kubefake):

- a full apply of N objects (default 1,000) into an empty cluster;
- a no-change round over the same N objects: API requests and time.
  Target (issue 5): requests grow with the number of kinds, not objects.

The objects are built in memory (render cost is measured in run.py), spread
over four kinds in one namespace. Each repeat starts a fresh fake.

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
    return 0 if requests <= target else 1


if __name__ == "__main__":
    sys.exit(main())
