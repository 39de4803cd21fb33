"""Rendering a Helm chart of 50 objects with the Helm v4 engine
(helm-python-sdk), cold and warm (the renderer's cache of unchanged inputs),
and a Jsonnet program of 50 objects the same way.

    python benchmarks/render.py              # median of 10
    python benchmarks/render.py --repeat 20

Cold: the renderer's cache is emptied before each run, so the chart is
loaded and rendered by Helm (the library is already loaded: a long-running
agent pays that once). Warm: the inputs did not change, so the objects come
from the cache; what remains is hashing the inputs (every file of the chart
and the values). Each run renders the whole environment through
`render_environment`, as an agent round does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from promoter.adapters.render import renderer  # noqa: E402

OBJECTS = 50


def make_repo(root: Path) -> None:
    chart = root / "charts" / "big"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: big\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("image:\n  repository: ghcr.io/acme/big\n  tag: '1'\n")
    for i in range(OBJECTS // 2):
        (chart / "templates" / f"app-{i}.yaml").write_text(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n"
            "spec:\n  template:\n    spec:\n      containers:\n"
            f"        - name: app\n          image: "
            '"{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{i}\n"
            "data:\n  release: {{ .Release.Name | quote }}\n"
        )
    (root / "dash").mkdir()
    (root / "dash" / "main.jsonnet").write_text(
        "[{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'c' + i}, "
        f"data: {{env: std.extVar('env')}}}} for i in std.range(1, {OBJECTS})]\n"
    )
    (root / "values").mkdir()
    (root / "values" / "dev.yaml").write_text(
        "image:\n  repository: ghcr.io/acme/big\n  tag: '2'\n"
    )
    (root / "values" / "dash.json").write_text('{"image": "ghcr.io/acme/dash:1"}\n')
    (root / "promoter.yaml").write_text(
        "version: 1\nenvironments: [{name: dev}]\nservices:\n"
        "  - name: big\n    image: ghcr.io/acme/big\n    path: values/{env}.yaml\n"
        "    render: {helm: {chart: charts/big}}\n"
        "  - name: dash\n    image: ghcr.io/acme/dash\n    path: values/dash.json\n"
        "    render:\n      jsonnet:\n        main: dash/main.jsonnet\n"
        '        extVars: {env: "{env}"}\n'
    )


def timed(repeat: int, cold: bool, root: Path) -> list[float]:
    out = []
    renderer.render_environment(root, "dev")  # warm-up: the libraries load once
    for _ in range(repeat):
        if cold:
            renderer._cache.clear()
        start = time.perf_counter()
        objects = renderer.render_environment(root, "dev").objects
        out.append(time.perf_counter() - start)
        assert len(objects) == 2 * OBJECTS, len(objects)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="promoter-bench-render-") as tmp:
        root = Path(tmp)
        make_repo(root)
        print(f"python {sys.version.split()[0]}, {args.repeat} runs after a warm-up, medians")
        print(f"an environment of a {OBJECTS}-object Helm chart and a {OBJECTS}-object Jsonnet app")
        for label, cold in (
            ("cold (rendered by Helm and Jsonnet)", True),
            ("warm (cached)", False),
        ):
            runs = timed(args.repeat, cold, root)
            print(
                f"{label:<38} median {statistics.median(runs) * 1000:7.1f} ms"
                f"  min {min(runs) * 1000:7.1f}  max {max(runs) * 1000:7.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
