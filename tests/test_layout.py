"""The package's shape, checked structurally (imports and sizes, never timings).

- `import promoter.cli` and the commands that need no network library load
  none (checked in a fresh interpreter's sys.modules);
- the layers import downwards only: cli -> workflows -> adapters -> core;
- core imports no I/O library, not even inside a function;
- no import cycle between promoter's modules;
- every module stays small enough to read in one sitting.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from promoter.cli import COMMANDS, cli

PACKAGE = Path(__file__).resolve().parents[1] / "promoter"
IO_LIBRARIES = ("click", "git", "github", "gitlab", "kubernetes", "requests", "docker", "urllib3")
NETWORK_LIBRARIES = ("kubernetes", "github", "gitlab", "git", "requests", "docker")
LAYERS = ("core", "adapters", "workflows", "cli")
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, top_level_only: bool) -> None:
        self.top_level_only = top_level_only
        self.found: list[tuple[str, int]] = []

    def visit_Import(self, node: ast.Import) -> None:
        self.found.extend((a.name, node.lineno) for a in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            self.found.append((node.module, node.lineno))
            self.found.extend((f"{node.module}.{a.name}", node.lineno) for a in node.names)

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):  # annotations only: never run
            return
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if not self.top_level_only:
            self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]


def _imports(path: Path, *, top_level_only: bool) -> list[tuple[str, int]]:
    """(module, line) of every import; with `top_level_only`, only those that
    run when the module is imported (not inside a function). Imports under
    `if TYPE_CHECKING:` never run and are left out."""
    collector = _ImportCollector(top_level_only)
    collector.visit(ast.parse(path.read_text(encoding="utf-8")))
    return collector.found


def _loaded_after(code: str) -> set[str]:
    probe = (
        f"import json, sys\n{code}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_network_library() -> None:
    loaded = _loaded_after("import promoter.cli")
    assert not loaded & set(NETWORK_LIBRARIES), sorted(loaded & set(NETWORK_LIBRARIES))


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["set-image", "--help"],
        ["status", "--repo", "/nonexistent"],
        ["config", "validate", "--repo", "/nonexistent"],
        # Refused before any git work: git and the registry client load on use.
        ["bump", "--env", "dev", "--service", "x", "--tag", "bad tag", "--repo-url", "x"],
        ["agent", "--help"],
        ["serve", "--help"],
    ],
)
def test_a_command_loads_only_what_it_uses(args: list[str]) -> None:
    loaded = _loaded_after(
        "from promoter.cli import main\n"
        f"sys.argv = ['promoter', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    unexpected = loaded & set(NETWORK_LIBRARIES)
    assert not unexpected, f"promoter {' '.join(args)} imported {sorted(unexpected)}"


def test_the_core_imports_no_io_library_anywhere() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for name, path in _modules().items()
        if name.startswith("promoter.core")
        for module, line in _imports(path, top_level_only=False)
        if module.split(".")[0] in IO_LIBRARIES
    ]
    assert not offenders, "\n".join(offenders)


def test_layers_import_downwards_only() -> None:
    offenders = []
    for name, path in _modules().items():
        parts = name.split(".")
        if len(parts) < 2 or parts[1] not in LAYERS:
            continue
        rank = LAYERS.index(parts[1])
        for module, line in _imports(path, top_level_only=False):
            target = module.split(".")
            inside = target[0] == "promoter" and len(target) > 1 and target[1] in LAYERS
            if inside and LAYERS.index(target[1]) > rank:
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} -> {module}")
    assert not offenders, "\n".join(offenders)


def test_no_import_cycles() -> None:
    modules = _modules()
    # Edges are the modules an import names (`from a.b import c` names a.b,
    # and a.b.c when that is a module); the parent package's __init__, which
    # Python runs first, is not counted as a dependency.
    graph = {
        name: {
            module
            for module, _ in _imports(path, top_level_only=True)
            if module in modules and module != name
        }
        for name, path in modules.items()
    }
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def walk(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_modules_are_small() -> None:
    big = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not big, f"over {MAX_LINES} lines: {big}"


def test_every_lazy_command_resolves_to_its_click_command() -> None:
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name
