"""Kernels follow the one JIT policy (fastaug/kernels/_jit.py) and the dependency rule."""

import ast
from pathlib import Path

KERNELS = Path(__file__).resolve().parents[1] / "fastaug" / "kernels"


def test_no_bare_njit_or_fastmath_outside_the_policy_module():
    for path in sorted(KERNELS.glob("*.py")):
        if path.name == "_jit.py":
            continue
        source = path.read_text()
        assert "njit" not in source and "numba.jit" not in source, path.name
        assert "fastmath" not in source, path.name


def test_kernels_import_only_numpy_numba_and_each_other():
    """... and the JIT policy its settings from fastaug.settings, a leaf
    (tests/test_settings.py)."""
    allowed = {"math", "numpy", "numba", "os", "sys", "hashlib", "pathlib"}
    for path in sorted(KERNELS.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 1:  # another kernel module
                    continue
                if node.level == 2 and path.name == "_jit.py":
                    assert node.module is None and [a.name for a in node.names] == ["settings"]
                    continue
                assert node.level == 0, f"{path.name} imports from the package above"
                names = [node.module.split(".")[0]]
            else:
                continue
            assert set(names) <= allowed, f"{path.name} imports {names}"
            assert "fastaug" not in names
