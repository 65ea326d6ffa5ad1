"""The client stays light: importing the storage API (or the CLI) loads neither aiohttp (only
the HTTP backend and the server need it) nor docker or pynvml (never, anywhere in the client)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import crowdcompute.client, crowdcompute.client.storage as storage
from crowdcompute.cli import main
storage.Cid, storage.cid_of, storage.open_storage, storage.LocalStorage
light = sorted(m for m in ("aiohttp", "docker", "pynvml", "anchorpy") if m in sys.modules)
storage.HttpStorage, storage.start_storage_server
heavy = sorted(m for m in ("aiohttp", "docker", "pynvml") if m in sys.modules)
print(json.dumps([light, heavy]))
"""


def test_storage_imports_stay_light():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60)
    light, heavy = json.loads(done.stdout)
    assert light == []
    assert heavy == ["aiohttp"]
