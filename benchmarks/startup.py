"""Start-up cost of the promoter CLI, as ratios to the Python floor.

    python benchmarks/startup.py              # median of 10, 1,000-service repo
    python benchmarks/startup.py --repeat 20 --strict

The floor is `python -c "import click, yaml"` on the same machine: a CLI
written with click that reads YAML cannot start faster. Every command runs
as a process, the way a CI job or shell completion runs it; the rounds are
interleaved (floor, --version, --help, set-image, status, floor, ...) so that
drift on the machine hits every row alike. One unmeasured warm-up round
comes first (page cache, .pyc files).

Targets (the layout issue):

| row | target |
|---|---|
| `promoter --version`, `promoter --help` | <= 1.5 x floor |
| `promoter set-image --dry-run` on a 1,000-service repo | <= 2.5 x floor |
| `promoter status` over 3,000 overlays (1,000 services x 3 envs) | < 1.2 s |

It also prints which heavy libraries `--version` and `set-image` import
(none of kubernetes, github, gitlab, git, requests should appear).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import generate  # beside this file
from run import GIT_ENV, Result, child_env, fmt, promoter_command, table

VERSION_HELP_LIMIT = 1.5
SET_IMAGE_LIMIT = 2.5
STATUS_LIMIT_S = 1.2
HEAVY = ("kubernetes", "github", "gitlab", "git", "requests", "docker", "ruamel")


def timed_process(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} exited {proc.returncode}:\n" + proc.stderr.decode(errors="replace")
        )
    return elapsed


def heavy_imports(args: list[str], env: dict[str, str]) -> list[str]:
    """Top-level heavy packages in sys.modules after running the CLI in-process."""
    probe = (
        "import sys\n"
        "from promoter.cli import main\n"
        f"sys.argv = ['promoter', *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    marked = [line for line in out.stdout.splitlines() if line.startswith("HEAVY:")]
    return [m for m in marked[-1].removeprefix("HEAVY:").split(",") if m] if marked else ["?"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start-up cost of the promoter CLI.")
    parser.add_argument("--repeat", type=int, default=10, help="measured rounds (default 10)")
    parser.add_argument("--services", type=int, default=1000, help="services in the repo")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    env = child_env()
    promoter = promoter_command()
    with tempfile.TemporaryDirectory(prefix="promoter-startup-") as tmp:
        repo = Path(tmp) / "repo"
        generate.generate(args.services, repo)
        env["PROMOTER_CACHE_DIR"] = str(Path(tmp) / "cache")
        service = generate.services(args.services)[0].name  # a kustomize overlay
        rows = {
            "floor: python -c 'import click, yaml'": [
                sys.executable,
                "-c",
                "import click, yaml",
            ],
            "promoter --version": [*promoter, "--version"],
            "promoter --help": [*promoter, "--help"],
            f"promoter set-image --dry-run ({args.services:,} svc)": [
                *promoter,
                "set-image",
                "--dry-run",
                "--repo",
                str(repo),
                "--env",
                "dev",
                "--service",
                service,
                "--tag",
                "9.9.9",
            ],
            f"promoter status ({args.services * 3:,} overlays)": [
                *promoter,
                "status",
                "--repo",
                str(repo),
            ],
        }
        results = {name: Result(name, "-") for name in rows}
        for round_ in range(args.repeat + 1):
            for name, cmd in rows.items():
                elapsed = timed_process(cmd, {**env, **GIT_ENV})
                if round_:  # round 0 is the warm-up
                    results[name].times.append(elapsed)
        version_mods = heavy_imports(["--version"], env)
        set_image_args = rows[list(rows)[3]][len(promoter) :]
        set_image_mods = heavy_imports(set_image_args, env)

    names = list(rows)
    floor = results[names[0]].median
    for name in names[1:]:
        results[name].note = f"{results[name].median / floor:.2f}x floor"
    print(f"python {sys.version.split()[0]}, {args.repeat} rounds after a warm-up, medians")
    print(table(list(results.values())))
    print()
    print(f"heavy modules imported by --version: {', '.join(version_mods) or 'none'}")
    print(f"heavy modules imported by set-image: {', '.join(set_image_mods) or 'none'}")
    verdicts = []
    for name, limit in ((names[1], VERSION_HELP_LIMIT), (names[2], VERSION_HELP_LIMIT)):
        ratio = results[name].median / floor
        verdicts.append((ratio <= limit, f"{name}: {ratio:.2f}x floor (target <= {limit}x)"))
    ratio = results[names[3]].median / floor
    verdicts.append(
        (ratio <= SET_IMAGE_LIMIT, f"{names[3]}: {ratio:.2f}x floor (target <= {SET_IMAGE_LIMIT}x)")
    )
    status = results[names[4]].median
    verdicts.append(
        (status < STATUS_LIMIT_S, f"{names[4]}: {fmt(status)} (target < {fmt(STATUS_LIMIT_S)})")
    )
    for ok, text in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 1 if args.strict and not all(ok for ok, _ in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
