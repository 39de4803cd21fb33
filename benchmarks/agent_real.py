"""The applier's cost against a real kube-apiserver (v1.37, etcd, built from
their Go modules by scripts/kube-control-plane.sh; no controllers: the
tests' stand-in writes workload status where the agent sleeps).

- a full apply of N objects (default 1,000) into an empty namespace;
- a no-change round over the same objects: API requests and seconds,
  at N and at N/10, to show the requests grow with kinds, not objects.

    python benchmarks/agent_real.py                     # starts and stops a control plane
    python benchmarks/agent_real.py --kubeconfig K      # or uses the one K names
    python benchmarks/agent_real.py --objects 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # measure this checkout's promoter

from benchmarks.agent import KINDS, objects  # noqa: E402
from promoter.adapters.kube import Kube  # noqa: E402
from promoter.workflows.apply_round import Reconciler, Settings  # noqa: E402
from tests.realkube import StandIn  # noqa: E402

SCRIPT = ROOT / "scripts" / "kube-control-plane.sh"


@contextmanager
def control_plane(kubeconfig: str | None) -> Iterator[Path]:
    if kubeconfig:
        yield Path(kubeconfig)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "kube"
        up = subprocess.run(
            ["bash", str(SCRIPT), "up", str(folder)], capture_output=True, text=True
        )
        if up.returncode != 0:
            sys.exit(up.stderr.strip() or "scripts/kube-control-plane.sh up failed")
        try:
            yield Path(up.stdout.strip())
        finally:
            subprocess.run(["bash", str(SCRIPT), "down", str(folder)], check=False)


def one(kubeconfig: Path, count: int) -> tuple[float, float, int]:
    """(full apply s, no-change round s, no-change requests) in a fresh namespace."""
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    kube = Kube.connect(kubeconfig, namespace=namespace)
    try:
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        objs = objects(count)
        settings = Settings("bench", health_timeout=120, health_poll=0.2)
        rec = Reconciler(kube, settings, sleep=StandIn(kube, namespace))
        start = time.perf_counter()
        applied = rec.run(lambda: objs)
        full = time.perf_counter() - start
        assert applied.ok and len(applied.created) == count, applied.text()
        assert rec.run(lambda: objs).ok  # absorb the status writes since the apply
        start = time.perf_counter()
        quiet = rec.run(lambda: objs)
        idle = time.perf_counter() - start
        assert quiet.ok and not quiet.applied and quiet.checked == 0, quiet.text()
        return full, idle, quiet.requests
    finally:
        kube.delete(f"/Namespace//{namespace}")  # stays Terminating: no namespace controller
        kube.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--kubeconfig", help="a running API server (default: start one)")
    args = parser.parse_args(argv)
    small = max(len(KINDS), args.objects // 10)
    with control_plane(args.kubeconfig) as kubeconfig:
        version = subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "version"], capture_output=True, text=True
        ).stdout
        server = next((line for line in version.splitlines() if "Server" in line), "?")
        runs = [one(kubeconfig, args.objects) for _ in range(args.repeat)]
        smalls = [one(kubeconfig, small) for _ in range(args.repeat)]
    full = statistics.median(r[0] for r in runs)
    idle = statistics.median(r[1] for r in runs)
    requests = statistics.median(r[2] for r in runs)
    small_requests = statistics.median(r[2] for r in smalls)
    small_idle = statistics.median(r[1] for r in smalls)
    print(f"real API server: {server.strip()}")
    print(f"objects: {args.objects} ({len(KINDS)} kinds, 1 namespace); repeats: {args.repeat}")
    print(f"full apply:       median {full:7.3f} s   ({full / args.objects * 1000:.2f} ms/object)")
    print(f"no-change round:  median {idle:7.3f} s   requests: {requests:g}")
    print(f"  with {small:>5} objects: median {small_idle:7.3f} s   requests: {small_requests:g}")
    target = len(KINDS) + 1  # one LIST per kind, one GET of the inventory
    ok = requests <= target and requests == small_requests
    print(f"target: requests <= kinds + 1 = {target}, the same at {small} and {args.objects} "
          f"objects: {'ok' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
