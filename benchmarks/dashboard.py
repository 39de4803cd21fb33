"""The dashboard's matrix page for 1,000 services × 5 environments, warm:
the snapshot is already read (the refresher does that in the background),
so this is what a page view costs — the template render and the response.
Target (issue 13): under 300 ms. Also the poller's /api/version and the
/api/snapshot it fetches when the version moved.

    python benchmarks/dashboard.py                 # median of 20
    python benchmarks/dashboard.py --services 2000 --repeat 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from werkzeug.test import Client  # noqa: E402

from promoter.adapters.http.dashboard_app import DashboardApp, Links  # noqa: E402
from promoter.core.dashboard import Cell, Figures, Snapshot  # noqa: E402
from promoter.workflows.dashboard import Refresher  # noqa: E402

ENVS = ("dev", "test", "staging", "prod-eu", "prod-us")


def snapshot(services: int) -> Snapshot:
    cells = {}
    names = [f"service-{i:04d}" for i in range(services)]
    for i, name in enumerate(names):
        for j, env in enumerate(ENVS):
            tag = f"1.{i % 40}.{max(0, 3 - j)}"
            cells[(name, env)] = Cell(
                name, env, tag, f"ghcr.io/acme/{name}:{tag}",
                since="2026-11-20T10:00:00+00:00", commit=f"{i:07x}{j}" * 5,
                pipeline="https://ci.example.com/run/1",
                relation="" if j == 0 else ("behind" if i % 3 else "equal"),
                upstream=ENVS[j - 1] if j else None,
            )  # fmt: skip
    figures = Figures({e: 40 - 5 * k for k, e in enumerate(ENVS)}, {e: 1 for e in ENVS}, 26.5)
    return Snapshot(list(ENVS), names, cells, figures=figures, source="bench")


def timed(client: Client, path: str, repeat: int) -> tuple[float, int]:
    client.get(path)  # warm-up: templates compiled, caches filled
    runs, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        size = len(response.get_data())
        runs.append(time.perf_counter() - start)
        assert response.status_code == 200
    return statistics.median(runs), size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    snap = snapshot(args.services)
    refresher = Refresher(lambda: snap, 3600)
    refresher.refresh_once()
    client = Client(DashboardApp(refresher, links=Links("https://github.com/acme/env", "github")))
    print(f"{args.services} services × {len(ENVS)} environments, median of {args.repeat}, warm")
    ok = True
    for path, target in (("/", 0.300), ("/api/version", None), ("/api/snapshot", None)):
        median, size = timed(client, path, args.repeat)
        verdict = "" if target is None else (" ok" if median < target else " MISSED")
        ok = ok and (target is None or median < target)
        shown = f" (target < {target * 1000:.0f} ms){verdict}" if target else ""
        print(f"GET {path:<14} median {median * 1000:7.1f} ms  {size / 1024:7.0f} KiB{shown}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
