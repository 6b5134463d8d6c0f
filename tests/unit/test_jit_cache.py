"""numba's kernels are cached per version of every kernel module (stale-code regression)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nocwise.jit_cache import KERNEL_DIRS, PACKAGE_DIR, kernel_sources_key


def _package_copy(tmp_path: Path) -> Path:
    for folder in KERNEL_DIRS:
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "kernel.py").write_text("x = 1\n")
    return tmp_path


def test_editing_any_kernel_module_selects_another_cache_dir(tmp_path: Path) -> None:
    package = _package_copy(tmp_path)
    before = kernel_sources_key(package)
    assert kernel_sources_key(package) == before
    helper = package / "detect/metrics/kernel.py"
    helper.write_text("x = 22\n")
    assert kernel_sources_key(package) != before


def test_every_module_that_uses_numba_is_in_a_kernel_folder() -> None:
    users = {
        path.parent.relative_to(PACKAGE_DIR).as_posix()
        for path in PACKAGE_DIR.rglob("*.py")
        if "from numba" in path.read_text() or "import numba" in path.read_text()
    }
    assert users <= set(KERNEL_DIRS)


def test_numba_compiles_into_the_versioned_dir(tmp_path: Path) -> None:
    """A fresh process that imports nocwise then compiles a kernel writes it under the key."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    script = "import nocwise.detect.metrics.robust as r; r.scale_floor(1.0, 0.0)"
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=300)
    assert list((tmp_path / "nocwise" / "numba" / kernel_sources_key()).rglob("*.nbi"))


def test_an_operators_own_cache_dir_is_kept(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "mine")}
    out = subprocess.run(
        [sys.executable, "-c", "import os, nocwise; print(os.environ['NUMBA_CACHE_DIR'])"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == str(tmp_path / "mine")
