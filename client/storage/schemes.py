"""Which backend a storage spec opens: a table of URL schemes, and the default.

`open_storage(spec)`:
  - `http://`, `https://`: a kubo RPC endpoint (`crowd storage serve`, a kubo daemon's
    :5001, a pinning service speaking the same subset) -> `HttpStorage`;
  - `file://` (`file:///data/store`): a folder on this machine -> `LocalStorage`;
  - any other `scheme://`: refused (`UnknownScheme`, naming the schemes known), never
    taken for a folder whose name happens to hold "://";
  - anything without a scheme: a folder -> `LocalStorage`;
  - nothing: $CROWD_STORAGE if set (any of the above), else the default folder
    $XDG_DATA_HOME/crowdcompute/storage (~/.local/share/crowdcompute/storage).

A new backend is one entry in SCHEMES. Openers import their backend when called, so that
opening a folder never imports aiohttp.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from .backend import Storage
from .errors import UnknownScheme

ENV_VAR = "CROWD_STORAGE"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")  # RFC 3986's scheme, then "//"


def _http(url: str) -> Storage:
    from .http import HttpStorage

    return HttpStorage(url)


def _file(url: str) -> Storage:
    from .local import LocalStorage

    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise UnknownScheme(f"{url!r}: a file URL names a folder on this machine (file:///path), not on {parts.netloc!r}")
    return LocalStorage(unquote(parts.path))


SCHEMES: dict[str, Callable[[str], Storage]] = {
    "http": _http,
    "https": _http,
    "file": _file,
}


def default_storage_dir() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "crowdcompute" / "storage"


def open_storage(spec: str | Path | None = None) -> Storage:
    if spec is None or spec == "":
        spec = os.environ.get(ENV_VAR) or default_storage_dir()
    match = _SCHEME.match(spec) if isinstance(spec, str) else None
    if match is None:
        from .local import LocalStorage

        return LocalStorage(spec)
    opener = SCHEMES.get(match.group(1).lower())
    if opener is None:
        known = ", ".join(f"{name}://" for name in SCHEMES)
        raise UnknownScheme(f"unknown storage scheme {match.group(1)!r} in {spec!r}: known are {known}, or give a folder")
    return opener(spec)
