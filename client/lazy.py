"""Package namespaces whose names load on first use (PEP 562).

Why: importing anchorpy takes about 0.2 s and aiohttp about 0.25 s, while a dApp that reads
one account, the localnet (which takes token constants) and `crowd --help` must start fast.
A package lists where each public name lives; `lazy_attributes` returns the module-level
`__getattr__` that imports the home module the first time a name is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def lazy_attributes(package: str, homes: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """`homes`: public name -> module relative to `package` (e.g. ".jobs"); `namespace`: the
    package's globals(), where a loaded name is kept so the next use is a plain lookup."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home, package), name)
        namespace[name] = value
        return value

    return __getattr__
