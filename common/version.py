"""The installed distribution's version (pyproject.toml is the one source)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crowdcompute")
except PackageNotFoundError:  # a bare checkout on sys.path, not installed
    __version__ = "0+unknown"
