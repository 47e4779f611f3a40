"""The shape of the package, kept as issue 11 left it: the data flows one way (no import circle),
the library never prints or exits (only ``deckkit.cli`` talks to people), and no module grows
much past 500 lines without saying why."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "deckkit"
MAX_LINES = 520  # "much over 500": past this a module says why in its docstring ("long because")
FORKED_CHILD_MODULES = ("deckkit.pipeline.forking", "deckkit.atomic")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path) -> set[str]:
    """The deckkit modules a module imports, at any depth of its code (deferred imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in MODULES}
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = {name: imported_modules(path) - {name} for name, path in MODULES.items()}
    # A package's __init__ importing its own submodules (to re-export them) is not a circle.
    graph = {
        name: {other for other in imports if not other.startswith(name + ".")}
        for name, imports in graph.items()
    }
    circles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        for other in sorted(graph[name]):
            if other in trail:
                circles.append([*trail[trail.index(other) :], other])
            elif len(trail) < len(graph):
                visit(other, [*trail, other])

    for name in graph:
        visit(name, [name])
    assert not circles, circles[:3]


def test_only_the_command_line_prints_exits_or_imports_click() -> None:
    offenders = []
    for name, path in MODULES.items():
        if name == "deckkit.cli" or name.startswith("deckkit.cli."):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom):
                    modules.append(node.module or "")
                if any(m == "click" or m.startswith("click.") for m in modules):
                    offenders.append(f"{name}: imports click")
            elif isinstance(node, ast.Call):
                called = ast.unparse(node.func)
                # A forked child ends with os._exit, never running its parent's clean-up.
                child_exit = called == "os._exit" and name in FORKED_CHILD_MODULES
                if called in ("print", "sys.exit", "exit", "quit", "os._exit") and not child_exit:
                    offenders.append(f"{name}: calls {called}")
    assert not offenders


def test_long_modules_say_why() -> None:
    long = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if len(text.splitlines()) > MAX_LINES and "long because" not in docstring:
            long.append(f"{name}: {len(text.splitlines())} lines")
    assert not long
