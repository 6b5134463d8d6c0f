"""Where numba keeps nocwise's compiled kernels, so an edited helper never runs stale code.

numba's on-disk cache checks only the timestamp of the file that defines a kernel. A kernel
that inlines helpers from another module (``fused.py`` calls ``arrays.py`` and ``robust.py``)
keeps its old machine code when only a helper changes. nocwise therefore points numba at a
cache directory named after the size and modification time of every module that holds
kernels: any edit to any of them selects a fresh directory and everything recompiles once.

An operator's own ``NUMBA_CACHE_DIR`` is respected as it is.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

# Folders whose modules define or inline numba kernels (checked by a unit test).
KERNEL_DIRS = ("bench", "correlate/causality", "correlate/core", "detect/metrics", "ingest")


def kernel_sources_key(package_dir: Path = PACKAGE_DIR) -> str:
    """A short digest of the path, size and mtime of every module in the kernel folders."""
    digest = hashlib.sha256()
    for folder in KERNEL_DIRS:
        for path in sorted((package_dir / folder).glob("*.py")):
            stat = path.stat()
            digest.update(
                f"{path.relative_to(package_dir)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode()
            )
    return digest.hexdigest()[:16]


def default_cache_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """``$XDG_CACHE_HOME/nocwise/numba/<key>`` (``~/.cache`` when XDG_CACHE_HOME is unset)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "nocwise" / "numba" / kernel_sources_key(package_dir)


def use_versioned_numba_cache() -> None:
    """Set ``NUMBA_CACHE_DIR`` unless the operator already did; numba reads it on import."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        os.environ["NUMBA_CACHE_DIR"] = str(default_cache_dir())
