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
    allowed = {"math", "numpy", "numba", "os", "sys", "hashlib", "pathlib"}
    for path in sorted(KERNELS.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: another kernel module
                    continue
                names = [node.module.split(".")[0]]
            else:
                continue
            assert set(names) <= allowed, f"{path.name} imports {names}"
            assert "fastaug" not in names
