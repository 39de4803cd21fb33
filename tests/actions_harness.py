"""Run a composite GitHub Action the way the runner does, without a runner.

What it does, as actions/runner does it for `runs.using: composite`:

- inputs: the values given, else each input's `default` (expressions in
  defaults, like `${{ github.token }}`, are evaluated); an input the action
  does not declare is an error here (the runner only warns).
- each `run:` step with `shell: bash` is written to a file and run as
  `bash --noprofile --norc -eo pipefail FILE`, in `working-directory` or
  the workspace, with the step's `env:` evaluated on top of the job's
  environment, `GITHUB_ACTION_PATH` set to the action's directory, and fresh
  `GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY` files per step; `GITHUB_ENV` and
  `GITHUB_PATH` written by a step apply to the steps after it.
- the runner sets no `INPUT_*` variables for a composite action's steps
  (it does for JavaScript and Docker actions): a step sees an input only
  where its `env:` maps it, e.g. `INPUT_TAG: ${{ inputs.tag }}`, which is
  what the action under test does and what this harness evaluates.
- `${{ }}` is replaced in `run:`, `env:`, `with:` and the action's outputs
  with the simple contexts the runner has there: `inputs.*`,
  `steps.<id>.outputs.*`, `github.*`, `env.*`, `runner.*`. Anything else (a
  function, an operator) raises `Unsupported`: the harness never guesses.
- workflow commands the steps print are read back: `::add-mask::`,
  `::error|warning|notice ...::`, and `::stop-commands::TOKEN` … `::TOKEN::`
  (commands in between are ignored, as the runner ignores them).
- a step that fails stops the action (no `if:`/`continue-on-error` support:
  a run step with `if:` raises `Unsupported`).

What it does not do: `uses:` steps (actions/setup-python, actions/cache) are
skipped; their outputs come from `uses_outputs` — the test's own interpreter
stands in for setup-python's. A step can be replaced by fixed outputs with
`stub_outputs` (the tests replace `install` by the already-installed package
to stay fast; one test runs the real install step).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SIMPLE = re.compile(r"^(inputs|steps|github|env|runner)((?:\.[A-Za-z_][\w-]*)+)$")
COMMAND = re.compile(r"^::([^\s:]+)(?: ([^:]*))?::(.*)$")


class Unsupported(Exception):
    """The action uses something this harness does not evaluate."""


@dataclass
class Annotation:
    level: str
    message: str
    properties: dict[str, str]


@dataclass
class StepRun:
    id: str | None
    name: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    skipped: bool = False


@dataclass
class ActionRun:
    returncode: int
    outputs: dict[str, str]
    steps: list[StepRun]
    summary: str
    annotations: list[Annotation] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)

    @property
    def log(self) -> str:
        """Everything the steps printed, as the runner would show it (masked)."""
        text = "".join(s.stdout + s.stderr for s in self.steps)
        for secret in self.masks:
            text = text.replace(secret, "***")
        return text

    def errors(self) -> list[Annotation]:
        return [a for a in self.annotations if a.level == "error"]


def _unescape(text: str, prop: bool = False) -> str:
    text = text.replace("%0D", "\r").replace("%0A", "\n")
    if prop:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%25", "%")


def parse_commands(stdout: str) -> tuple[list[Annotation], list[str]]:
    """Annotations and masks from a step's output, honouring stop-commands."""
    annotations: list[Annotation] = []
    masks: list[str] = []
    resume: str | None = None
    for line in stdout.splitlines():
        m = COMMAND.match(line.strip())
        if not m:
            continue
        name, props, value = m.groups()
        if resume is not None:
            if name == resume and not props and not value:
                resume = None
            continue
        if name == "stop-commands":
            resume = value
        elif name == "add-mask":
            masks.append(value)
        elif name in ("error", "warning", "notice"):
            properties = {}
            for part in (props or "").split(","):
                if "=" in part:
                    key, val = part.split("=", 1)
                    properties[key.strip()] = _unescape(val, prop=True)
            annotations.append(Annotation(name, _unescape(value), properties))
    return annotations, masks


def parse_output_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `name=value` and `name<<DELIM` … `DELIM`."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"no closing delimiter {delimiter!r} for {name!r}")
            i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ValueError(f"malformed line in an output file: {line!r}")
    return values


class Contexts:
    def __init__(self, inputs: Mapping[str, str], github: Mapping[str, str],
                 runner: Mapping[str, str], env: Mapping[str, str]) -> None:  # fmt: skip
        self.inputs = dict(inputs)
        self.github = dict(github)
        self.runner = dict(runner)
        self.env = dict(env)
        self.steps: dict[str, dict[str, str]] = {}

    def lookup(self, expression: str) -> str:
        m = SIMPLE.match(expression)
        if not m:
            raise Unsupported(f"expression {expression!r}")
        root, path = m.group(1), m.group(2).lstrip(".").split(".")
        if root == "steps":
            if len(path) != 3 or path[1] != "outputs":
                raise Unsupported(f"expression {expression!r}")
            return self.steps.get(path[0], {}).get(path[2], "")
        if len(path) != 1:
            raise Unsupported(f"expression {expression!r}")
        table: dict[str, str] = getattr(self, root)
        if root == "inputs" and path[0] not in table:
            raise Unsupported(f"{expression!r}: the action declares no such input")
        return table.get(path[0], "")

    def substitute(self, value: Any) -> str:
        return EXPRESSION.sub(lambda m: self.lookup(m.group(1)), str(value))


def load_action(action_dir: Path) -> dict[str, Any]:
    for name in ("action.yml", "action.yaml"):
        if (action_dir / name).is_file():
            data: dict[str, Any] = yaml.safe_load((action_dir / name).read_text())
            return data
    raise FileNotFoundError(f"no action.yml in {action_dir}")


def run_action(
    action_dir: Path,
    *,
    inputs: Mapping[str, str],
    workspace: Path,
    temp: Path,
    env: Mapping[str, str] | None = None,
    github: Mapping[str, str] | None = None,
    event: str = "{}",
    uses_outputs: Mapping[str, Mapping[str, str]] | None = None,
    stub_outputs: Mapping[str, Mapping[str, str]] | None = None,
    timeout: float = 300,
) -> ActionRun:
    """Run `action_dir`'s composite steps; `env` is the job's environment."""
    action = load_action(action_dir)
    if action.get("runs", {}).get("using") != "composite":
        raise Unsupported("only composite actions")
    declared = action.get("inputs") or {}
    unknown = set(inputs) - set(declared)
    if unknown:
        raise ValueError(f"inputs the action does not declare: {sorted(unknown)}")

    temp.mkdir(parents=True, exist_ok=True)
    event_path = temp / "event.json"
    event_path.write_text(event)
    runner_temp = temp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    github_ctx = {
        "action_path": str(action_dir),
        "workspace": str(workspace),
        "event_path": str(event_path),
        "token": "",
        "server_url": "https://github.com",
        "repository": "acme/app",
        "event_name": "push",
        "sha": "0" * 40,
        "run_id": "1",
        **(github or {}),
    }
    runner_ctx = {"os": "Linux", "temp": str(runner_temp), "arch": "X64"}
    job_env = {
        **(env if env is not None else os.environ),
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_EVENT_NAME": github_ctx["event_name"],
        "GITHUB_SERVER_URL": github_ctx["server_url"],
        "GITHUB_REPOSITORY": github_ctx["repository"],
        "GITHUB_SHA": github_ctx["sha"],
        "GITHUB_RUN_ID": github_ctx["run_id"],
        "RUNNER_TEMP": str(runner_temp),
        "RUNNER_OS": runner_ctx["os"],
    }
    ctx = Contexts({}, github_ctx, runner_ctx, job_env)
    for name, spec in declared.items():
        spec = spec or {}
        given = inputs.get(name)
        ctx.inputs[name] = (
            str(given) if given is not None else ctx.substitute(spec.get("default", ""))
        )

    files = {name: temp / name.lower() for name in ("GITHUB_ENV", "GITHUB_PATH")}
    for path in files.values():
        path.write_text("")
    steps: list[StepRun] = []
    annotations: list[Annotation] = []
    masks: list[str] = []
    summary = ""
    returncode = 0
    for index, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id")
        name = step.get("name") or step_id or f"step {index}"
        if step_id and stub_outputs and step_id in stub_outputs:
            ctx.steps[step_id] = dict(stub_outputs[step_id])
            steps.append(StepRun(step_id, name, 0, "", "", ctx.steps[step_id], skipped=True))
            continue
        if "uses" in step:
            for value in (step.get("with") or {}).values():
                ctx.substitute(value)  # every expression must still make sense
            outputs = dict((uses_outputs or {}).get(step_id or "", {}))
            if step_id:
                ctx.steps[step_id] = outputs
            steps.append(StepRun(step_id, name, 0, "", "", outputs, skipped=True))
            continue
        if step.get("shell") != "bash":
            raise Unsupported(f"step {name!r}: only `shell: bash` run steps")
        if "if" in step:
            raise Unsupported(f"step {name!r}: `if:` on a run step")
        ctx.env = {**job_env, **parse_output_file(files["GITHUB_ENV"].read_text())}
        step_env = {**ctx.env, **{k: ctx.substitute(v) for k, v in (step.get("env") or {}).items()}}
        extra_path = [p for p in files["GITHUB_PATH"].read_text().splitlines() if p]
        if extra_path:
            step_env["PATH"] = os.pathsep.join([*reversed(extra_path), step_env.get("PATH", "")])
        output_file = temp / f"output-{index}"
        summary_file = temp / f"summary-{index}"
        output_file.write_text("")
        summary_file.write_text("")
        step_env.update(
            GITHUB_ACTION_PATH=str(action_dir),
            GITHUB_OUTPUT=str(output_file),
            GITHUB_STEP_SUMMARY=str(summary_file),
            GITHUB_ENV=str(files["GITHUB_ENV"]),
            GITHUB_PATH=str(files["GITHUB_PATH"]),
        )
        script = temp / f"step-{index}.sh"
        script.write_text(ctx.substitute(step["run"]))
        cwd = workspace / ctx.substitute(step.get("working-directory", "."))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        outputs = parse_output_file(output_file.read_text())
        if step_id:
            ctx.steps[step_id] = outputs
        found, masked = parse_commands(proc.stdout)
        annotations += found
        masks += masked
        summary += summary_file.read_text()
        steps.append(StepRun(step_id, name, proc.returncode, proc.stdout, proc.stderr, outputs))
        if proc.returncode != 0:
            returncode = proc.returncode
            break
    action_outputs = {
        name: ctx.substitute((spec or {}).get("value", ""))
        for name, spec in (action.get("outputs") or {}).items()
    }
    return ActionRun(returncode, action_outputs, steps, summary, annotations, masks)


def python_outputs() -> dict[str, str]:
    """What actions/setup-python would report: here, the test's interpreter."""
    version = ".".join(str(v) for v in sys.version_info[:3])
    return {"python-path": sys.executable, "python-version": version}
