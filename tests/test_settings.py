"""The environment is read in one module, fastaug.settings, a leaf: no hot path reads it."""

import ast
import os
import subprocess
import sys
from pathlib import Path

from fastaug import datasets, settings

PACKAGE = Path(__file__).resolve().parents[1] / "fastaug"


def _reads_environment(node):
    """``os.environ`` / ``os.getenv`` / ``os.putenv`` (any use), or ``from os import ...``."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id == "os" and node.attr in ("environ", "getenv", "environb")
    if isinstance(node, ast.ImportFrom) and node.module == "os":
        return any(a.name in ("environ", "getenv", "environb") for a in node.names)
    return False


def _readers(path):
    return [node for node in ast.walk(ast.parse(path.read_text())) if _reads_environment(node)]


def test_only_settings_reads_the_environment():
    readers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if _readers(p))
    assert readers == ["settings.py"]


def test_settings_is_a_leaf():
    """Standard library only: the kernels' JIT policy may import it."""
    tree = ast.parse((PACKAGE / "settings.py").read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0] or "." for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }  # fmt: skip
    assert imported <= {"os", "pathlib"}, imported


def test_process_settings_are_read_once_at_start(tmp_path):
    env = dict(
        os.environ,
        FASTAUG_JIT_CACHE="0",
        FASTAUG_CACHE_DIR=str(tmp_path / "kernels"),
        FASTAUG_FORCE_SLOW_PATH="1",
    )
    code = (
        "from fastaug import settings\n"
        "from fastaug.kernels import _jit\n"
        "print(settings.JIT_CACHE, settings.FORCE_SLOW_PATH, _jit.CACHE, _jit.CACHE_DIR,"
        " settings.KERNEL_CACHE)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "True", "False", "None", str(tmp_path / "kernels")]


def test_data_and_cache_folders_follow_the_environment_at_each_use(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("FASTAUG_DATA", str(tmp_path / "data"))
    assert settings.user_cache() == tmp_path / "xdg" / "fastaug"
    assert datasets.cache_dir("mnist") == tmp_path / "xdg" / "fastaug" / "mnist"
    assert settings.data_folder() == str(tmp_path / "data")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("FASTAUG_DATA", "")
    assert settings.user_cache() == Path.home() / ".cache" / "fastaug"
    assert settings.data_folder() is None
