"""nocwise: an AIOps overlay for telecom operators, with the MLOps that keeps its models useful."""

from nocwise.jit_cache import use_versioned_numba_cache

__version__ = "0.1.0"

use_versioned_numba_cache()
