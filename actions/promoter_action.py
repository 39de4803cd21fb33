"""The GitHub Action's run step: inputs → promoter's argv → outputs, job summary
and annotations.

Runs with the interpreter of the virtualenv the install step made (standard
library only). Inputs arrive as INPUT_* environment variables, set in the
step's `env:` from `${{ inputs.* }}`: never pasted into a script, so no input
is ever code. Options are passed as an argument list, never through a shell.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping
from typing import Any

COMMANDS = ("bump", "promote", "check", "bot", "plan", "status")
INPUT_EXIT = 2  # promoter's ExitCode.INPUT: bad usage

# "promoter.yaml:5: message", "env/promoter.yaml:5: message" and, for a
# remote repository, "https://host/acme/env.git:promoter.yaml:5: message".
LOCATED = re.compile(r"^(?P<where>\S+?):(?P<line>\d+): (?P<message>.+)$")


class UsageError(Exception):
    """The action's inputs do not make a command."""


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip()


def split_list(value: str) -> list[str]:
    """`a b`, `a,b` and one per line all mean [a, b]."""
    return [v for v in re.split(r"[\s,]+", value) if v]


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = _get(env, name).lower()
    if value in ("", "false"):
        return False
    if value == "true":
        return True
    raise UsageError(f"input {name} must be true or false, not {value!r}")


def _this_repository(env: Mapping[str, str]) -> str:
    server, repo = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", "")
    return f"{server.rstrip('/')}/{repo}.git" if server and repo else ""


def build_argv(env: Mapping[str, str]) -> list[str]:
    """promoter's arguments for the inputs (without the program name)."""
    command = _get(env, "command")
    if command not in COMMANDS:
        raise UsageError(f"input command must be one of {', '.join(COMMANDS)}, not {command!r}")
    opt = {name: _get(env, name) for name in ("env", "tag", "digest", "image", "forge", "api-url")}
    repo_url, repo_path = _get(env, "repo-url"), _get(env, "repo-path") or "."
    source, targets = _get(env, "from"), split_list(_get(env, "to"))
    services = split_list(_get(env, "service"))
    args = [command]

    def add(option: str, value: str) -> None:
        if value:
            args.extend([option, value])

    def one_target() -> None:
        if len(targets) > 1:
            raise UsageError(f"{command} takes one target environment in input to")
        add("--from", source)
        add("--to", targets[0] if targets else "")

    if command == "bump":
        if len(services) > 1:
            raise UsageError("bump changes one service; give one name in input service")
        for name in ("env", "image", "tag", "digest"):
            add(f"--{name}", opt[name])
        add("--service", services[0] if services else "")
        add("--repo-url", repo_url)
    elif command == "promote":
        add("--from", source)
        for target in targets:
            add("--to", target)
        for service in services:
            add("--service", service)
        if _flag(env, "all"):
            args.append("--all")
        add("--repo-url", repo_url or _this_repository(env))
        if not (repo_url or _this_repository(env)):
            add("--repo", repo_path)
    elif command == "check":
        pr = _get(env, "pr")
        if pr:
            if not pr.isdigit():
                raise UsageError(f"input pr must be a pull request number, not {pr!r}")
            add("--pr", pr)
            add("--repo-url", repo_url or _this_repository(env))
            if not (repo_url or _this_repository(env)):
                add("--repo", repo_path)
        else:
            one_target()
            add("--repo", repo_path)
    elif command == "bot":
        add("--event", _get(env, "event-path"))
        add("--repo-url", repo_url)
    elif command == "plan":
        one_target()
        for service in services:
            add("--service", service)
        add("--repo", repo_path)
    else:  # status
        add("--repo", repo_path)
    if command in ("bump", "promote", "check", "bot"):
        add("--forge", opt["forge"])
        add("--api-url", opt["api-url"])
    try:
        args += shlex.split(_get(env, "extra-args"))
    except ValueError as err:
        raise UsageError(f"input extra-args: {err}") from err
    return [*args, "--output", "json"]


def child_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The tool's environment: the token under promoter's names, inputs removed."""
    child = {k: v for k, v in env.items() if not k.startswith("INPUT_")}
    app = {
        "PROMOTER_GITHUB_APP_ID": _get(env, "github_app_id"),
        "PROMOTER_GITHUB_APP_PRIVATE_KEY": _get(env, "github_app_private_key"),
        "PROMOTER_GITHUB_APP_INSTALLATION_ID": _get(env, "github_app_installation_id"),
    }
    # The App's credentials win over the token inside promoter; given, they are passed on.
    child.update({k: v for k, v in app.items() if v})
    token = _get(env, "token")
    if token:
        child["PROMOTER_GIT_TOKEN"] = token
        child["PROMOTER_FORGE_TOKEN"] = token
        if _get(env, "forge") == "gitlab":
            child.setdefault("PROMOTER_GIT_USERNAME", "oauth2")
    return child


# -- what the JSON says ------------------------------------------------------


def _pull_requests(command: str, data: Any) -> list[tuple[str, str]]:
    """(number, url) of the pull requests a command opened or updated."""
    found: list[tuple[str, str]] = []
    if command in ("bump", "promote"):
        proposals = data if isinstance(data, list) else [(data or {}).get("pull_request")]
        for p in proposals:
            pr = (p or {}).get("pull_request") or {}
            if pr.get("number"):
                found.append((str(pr["number"]), str(pr.get("url") or "")))
    elif command == "bot":
        for action in (data or {}).get("actions", []):
            m = re.match(r"^\S+: [#!](\d+) (\S+)$", str(action))
            if m:
                found.append((m.group(1), m.group(2)))
    return found


def changed(command: str, data: Any) -> bool:
    if command == "bump":
        pr = data.get("pull_request") or {}
        return bool(
            data.get("commit") or pr.get("created") or pr.get("updated") or pr.get("pushed")
        )
    if command == "promote":
        return any(
            r.get("created") or r.get("updated") or r.get("pushed") or r.get("closed") for r in data
        )
    if command == "bot":
        return bool(data.get("outcome") == "done")
    if command == "plan":
        return bool(data)
    return False


def _cell(value: object) -> str:
    text = " ".join(str("—" if value in (None, "") else value).split())
    return text.replace("|", "\\|")


def _table(head: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    head = list(head)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _version(v: Any) -> str:
    if not v:
        return "(none)"
    return str(v.get("tag") or "") + (f"@{v['digest'][:19]}…" if v.get("digest") else "")


def _pr_link(pr: Any) -> str:
    if not pr or not pr.get("number"):
        return "—"
    return f"[#{pr['number']}]({pr['url']})" if pr.get("url") else f"#{pr['number']}"


def _verb(r: Any) -> str:
    if not r.get("items"):
        return "nothing to promote"
    if r.get("created"):
        return "opened"
    if (r.get("pull_request") or {}).get("number"):
        return "updated" if r.get("updated") or r.get("pushed") else "unchanged"
    return "pushed" if r.get("pushed") else "unchanged"  # no forge: only the branch


def _bump_summary(data: Any) -> list[str]:
    what = f"`{data['service']}` in `{data['env']}`"
    proposal, commit = data.get("pull_request"), data.get("commit")
    if proposal:
        head = f"{what}: {_verb(proposal)} {_pr_link(proposal.get('pull_request'))}"
    elif commit:
        head = f"Pushed `{commit[:12]}` to `{data['branch']}` (attempt {data.get('attempts', 1)})."
    else:
        head = f"{what} already runs that version: nothing to commit."
    rows = [
        [data["service"], data["env"], f"{c['file']}:{c['line']}", c["old"], c["new"]]
        for c in data.get("changed", [])
    ]
    return [head, "", *_table(["service", "env", "file", "old", "new"], rows)] if rows else [head]


def _promote_summary(data: Any) -> list[str]:
    rows = [
        [r["target"], _verb(r), _pr_link(r.get("pull_request")), i.get("service"),
         _version(i.get("from")) if i else "", _version(i.get("to")) if i else ""]
        for r in data
        for i in r.get("items") or [{}]
    ]  # fmt: skip
    out = _table(["target", "result", "pull request", "service", "from", "to"], rows)
    notes = [f"closed #{n} (superseded)" for r in data for n in r.get("closed", [])]
    notes += [f"warning: {w}" for r in data for w in r.get("warnings", [])]
    return [*out, "", *(f"- {_cell(n)}" for n in notes)] if notes else out


ICONS = {"pass": "✅", "fail": "❌", "warn": "⚠️", "error": "❌"}


def _check_summary(data: Any) -> list[str]:
    verdict = "✅ pass" if data.get("verdict") == "pass" else "❌ fail"
    where = f" (PR #{data['pull_request']})" if data.get("pull_request") else ""
    counts = ", ".join(f"{n} {k}" for k, n in data.get("counts", {}).items() if n)
    head = f"Policies for `{data.get('target')}`{where}: **{verdict}**"
    out = [f"{head} ({counts})" if counts else f"{head} (no policies)"]
    rows = [
        [ICONS.get(r["status"], ""), f"`{r['rule']}`", r["subject"], r["reason"],
         r["fix"] if r["status"] != "pass" else ""]
        for r in data.get("results", [])
    ]  # fmt: skip
    return (
        [*out, "", *_table(["", "rule", "subject", "reason", "how to fix"], rows)] if rows else out
    )


def _bot_summary(data: Any) -> list[str]:
    row = [data.get("event"), data.get("outcome"), data.get("command"), data.get("reason")]
    out = _table(["event", "outcome", "command", "reason"], [row])
    actions = [f"- {_cell(a)}" for a in data.get("actions", [])]
    return [*out, "", *actions] if actions else out


def _plan_summary(data: Any) -> list[str]:
    if not data:
        return ["Nothing to promote."]
    rows = [
        [i["service"], i.get("source"), i.get("target"), _version(i.get("from")),
         _version(i.get("to")), ", ".join(i.get("files", []))]
        for i in data
    ]  # fmt: skip
    return _table(["service", "from", "to", "current", "new", "files"], rows)


def _status_summary(data: Any) -> list[str]:
    envs = data.get("environments", [])
    rows = [
        [name, *(_version(cells.get(e)) for e in envs)]
        for name, cells in data.get("services", {}).items()
    ]
    return _table(["service", *envs], rows)


SUMMARIES = {
    "bump": _bump_summary,
    "promote": _promote_summary,
    "check": _check_summary,
    "bot": _bot_summary,
    "plan": _plan_summary,
    "status": _status_summary,
}


def summary(command: str, data: Any) -> str:
    """The job summary: what changed, as Markdown tables."""
    return "\n".join([f"### promoter {command}", "", *SUMMARIES[command](data)]) + "\n"


# -- workflow commands --------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, **props: object) -> str:
    given = ",".join(f"{k}={_escape_property(str(v))}" for k, v in props.items() if v)
    return f"::{level}{' ' + given if given else ''}::{_escape_data(message)}"


def error_annotations(stderr: str, command: str, exit_code: int) -> list[str]:
    """`::error` lines for a failed run: one per `file:line` problem, else the message."""
    hints = [
        ln.strip()[len("hint:") :].strip()
        for ln in stderr.splitlines()
        if ln.strip().startswith("hint:")
    ]
    hint = f"\nhint: {hints[0]}" if hints else ""
    found = []
    for raw in stderr.splitlines():
        line = raw.removeprefix("error: ").strip()
        m = LOCATED.match(line)
        if not m:
            continue
        where = m.group("where")
        repo, _, file = where.rpartition(":")
        title = f"promoter {command}: {file}" + (f" in {repo}" if repo else "")
        found.append(
            annotation(
                "error", m.group("message") + hint, file=file, line=m.group("line"), title=title
            )
        )
    if found:
        return found
    body = [ln for ln in stderr.strip().splitlines() if not ln.strip().startswith("hint:")]
    text = "\n".join(ln.removeprefix("error: ") for ln in body[:20]).strip() or "no message"
    return [annotation("error", text + hint, title=f"promoter {command} failed (exit {exit_code})")]


def check_annotations(data: Any) -> list[str]:
    """A failed or warning policy result is worth an annotation of its own."""
    out = []
    for r in data.get("results", []) if isinstance(data, dict) else []:
        level = {"fail": "error", "error": "error", "warn": "warning"}.get(r.get("status"))
        if level:
            fix = f"\nfix: {r['fix']}" if r.get("fix") else ""
            out.append(
                annotation(
                    level,
                    f"{r['subject']}: {r['reason']}{fix}",
                    title=f"promoter/policy {r['rule']}",
                )
            )
    return out


def fenced(text: str) -> str:
    """A code block no backticks inside the text can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.strip()}\n{fence}\n"


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)


def set_outputs(path: str | None, values: Mapping[str, str]) -> None:
    """GITHUB_OUTPUT in the delimiter form, so no value can end its own entry."""
    for name, value in values.items():
        delimiter = f"promoter_{secrets.token_hex(8)}"
        _append(path, f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def echo_quoted(text: str) -> None:
    """Print the tool's output with workflow commands switched off, so text
    that came from a PR or a comment cannot act as `::command::`."""
    if not text:
        return
    stop = secrets.token_hex(16)
    sys.stdout.write(f"::stop-commands::{stop}\n{text.rstrip()}\n::{stop}::\n")


def main(env: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    command = _get(env, "command")
    try:
        argv = build_argv(env)
    except UsageError as err:
        print(annotation("error", str(err), title="promoter action: bad input"), flush=True)
        set_outputs(env.get("GITHUB_OUTPUT"), {"changed": "false", "exit-code": str(INPUT_EXIT)})
        return INPUT_EXIT
    # Escape line breaks: an input holding "\n::error::…" must not become a
    # workflow command (the ::stop-commands:: fence starts only below).
    shown = shlex.join(argv).replace("\r", "\\r").replace("\n", "\\n")
    print(f"promoter {shown}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "promoter", *argv],
        env=child_environment(env),
        capture_output=True,
        text=True,
        check=False,
    )
    echo_quoted(proc.stdout)
    echo_quoted(proc.stderr)
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
    except ValueError:
        data = None
    prs = _pull_requests(command, data) if data is not None else []
    set_outputs(
        env.get("GITHUB_OUTPUT"),
        {
            "changed": "true" if data is not None and changed(command, data) else "false",
            "pr-number": " ".join(n for n, _ in prs),
            "pr-url": " ".join(u for _, u in prs),
            "result": json.dumps(data, separators=(",", ":")) if data is not None else "",
            "exit-code": str(proc.returncode),
        },
    )
    if data is not None:
        _append(env.get("GITHUB_STEP_SUMMARY"), summary(command, data))
    notes = check_annotations(data) if command == "check" else []
    if proc.returncode != 0 and not notes:
        notes = error_annotations(proc.stderr, command, proc.returncode)
        _append(
            env.get("GITHUB_STEP_SUMMARY"),
            f"### promoter {command} failed (exit {proc.returncode})\n\n{fenced(proc.stderr)}",
        )
    for note in notes:
        print(note, flush=True)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
