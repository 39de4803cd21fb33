"""Helm charts through the real Helm engine, never a home-made template
evaluator: helm-python-sdk (Helm v4 as a library, offline; the extra
`promoter[helm]`), else a `helm` binary on PATH.

Values are layered as `helm template -f a.yaml -f b.yaml --set …` layers
them: the chart's own values.yaml first (Helm does that), then each values
file in order (maps merged, anything else replaced), then the inline values.
Subcharts vendored in the chart's charts/ render as Helm renders them;
remote dependencies are not fetched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from promoter.adapters.scratch import scratch_dir
from promoter.core.objects import Obj, RenderError, load_all, objects_from_yaml

RENDER_TIMEOUT_S = 120
EXTRA_HINT = (
    "pip install 'promoter[helm]' (Helm v4 as a library, offline), or put a helm binary on PATH"
)


def merged_values(files: list[Path], inline: dict[str, Any], root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in files:
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        try:
            docs = load_all(path.read_text(encoding="utf-8"), shown)
            data = docs[0] if docs else None
        except FileNotFoundError:
            raise RenderError(
                f"values file {shown} does not exist",
                hint="fix `render.helm.values` in promoter.yaml, or add the file",
            ) from None
        except UnicodeDecodeError as err:
            raise RenderError(f"{shown}: not valid YAML: {err}") from err
        if data is None:
            continue
        if not isinstance(data, dict):
            raise RenderError(f"{shown}: Helm values must be a mapping, not {type(data).__name__}")
        _merge(out, data)
    _merge(out, inline)
    return out


def _merge(into: dict[str, Any], layer: dict[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def render_chart(
    chart: Path, values: dict[str, Any], release: str, namespace: str | None, shown: str
) -> list[Obj]:
    """The chart's objects for these values (`shown` names it in messages)."""
    if not (chart / "Chart.yaml").is_file():
        raise RenderError(
            f"{shown} is not a Helm chart (no Chart.yaml)",
            hint="point `render.helm.chart` in promoter.yaml at the chart's directory",
        )
    try:
        import helm_python
    except ImportError:
        binary = shutil.which("helm")
        if binary is None:
            raise RenderError(
                f"rendering the Helm chart {shown} needs the Helm engine", hint=EXTRA_HINT
            ) from None
        return _with_binary(binary, chart, values, release, namespace, shown)
    try:
        with helm_python.Chart.load(str(chart)) as loaded:
            manifests = loaded.render(values, name=release, namespace=namespace)
    except helm_python.HelmError as err:
        raise RenderError(
            f"helm could not render {shown}: {err}",
            hint="fix the chart or its values (the message is Helm's own)",
        ) from err
    return _objects(manifests, shown)


def _objects(manifests: dict[str, str], shown: str) -> list[Obj]:
    out: list[Obj] = []
    for template in sorted(manifests):
        if template.endswith("NOTES.txt"):
            continue  # printed by `helm install`, never applied
        out += objects_from_yaml(manifests[template], f"{shown}: {template}")
    return out


def _with_binary(
    binary: str,
    chart: Path,
    values: dict[str, Any],
    release: str,
    namespace: str | None,
    shown: str,
) -> list[Obj]:
    with scratch_dir("promoter-helm-") as tmp:
        values_file = Path(tmp) / "values.json"  # JSON is YAML: exact, no quoting surprises
        values_file.write_text(json.dumps(values), encoding="utf-8")
        args = [binary, "template", release, str(chart), "-f", str(values_file)]
        if namespace:
            args += ["--namespace", namespace]
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT_S,
            env={**os.environ, "HELM_CACHE_HOME": tmp, "HELM_CONFIG_HOME": tmp},
            check=False,
        )
    if proc.returncode != 0:
        raise RenderError(
            f"helm could not render {shown}: {proc.stderr.strip()}",
            hint="fix the chart or its values (the message is Helm's own)",
        )
    return objects_from_yaml(proc.stdout, shown)
