"""No import cycles inside the fastaug package (STYLE.md: nothing imports upward).

Every module under ``fastaug/`` is parsed with :mod:`ast`; every import of a fastaug module
counts, at module level or inside a function (a lazy import is still a dependency, and a
cycle of lazy imports is still two modules that each need the other)."""

import ast
from pathlib import Path

import fastaug

PACKAGE = Path(fastaug.__file__).parent


def _modules():
    """``{dotted name: path}`` of every module of the package (a package is its __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name, path, modules):
    """The fastaug modules that module ``name`` imports."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module
            # ``from . import x`` / ``from .pkg import mod``: x is a module when one exists
            for alias in node.names:
                targets.add(f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem)
    found = set()
    for target in targets:
        # ``import fastaug.a.b`` depends on fastaug.a.b (the nearest existing module)
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycle(graph):
    """One import cycle as a list of modules (first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_package_has_no_import_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_finds_a_cycle_and_resolves_relative_imports():
    """The walker itself: a cycle is found, ``from . import x`` resolves to module x,
    ``from .pkg import name`` to the package, and function-level imports count."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    graph = _graph()
    assert "fastaug.io" in graph["fastaug.jobs.sources"]  # from .. import io
    assert "fastaug.kernels" in graph and "fastaug.kernels._jit" in graph
    assert "fastaug.jobs" in graph["fastaug.cli"]  # only imported inside functions
    assert "fastaug._validation" in graph["fastaug.functional"]  # from . import _validation as v
    assert "fastaug.resampling" in graph["fastaug.backends.cpu"]  # from ..resampling import ...
