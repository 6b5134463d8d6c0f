"""One YAML file -> a validated settings tree; `NOCWISE_*` environment variables override it."""

from nocwise.config.loader import ConfigError, load_settings
from nocwise.config.schema import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
