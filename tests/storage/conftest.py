"""A live storage server for the session: `crowd storage serve` in a process of its own,
spoken to over real HTTP. Its folder is known, so tests can corrupt a blob behind its back."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Small, so that the 413 path is cheap to reach; multi-chunk content still fits.
MAX_UPLOAD = 2 << 20
CROWD = [sys.executable, "-c", "import sys; from crowdcompute.cli import main; sys.exit(main())"]


@dataclass
class LiveServer:
    url: str
    folder: Path
    process: subprocess.Popen

    def blob(self, cid: object) -> Path:
        return self.folder / "blobs" / str(cid)


@pytest.fixture(scope="session")
def storage_server(tmp_path_factory) -> LiveServer:
    folder = tmp_path_factory.mktemp("storage-server")
    process = subprocess.Popen(CROWD + ["storage", "serve", "--dir", str(folder), "--port", "0",
                                        "--max-upload-size", str(MAX_UPLOAD)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = process.stdout.readline().strip()  # the first line is the URL, once it listens
    if not url.startswith("http://"):
        process.kill()
        pytest.fail(f"crowd storage serve did not start: {url!r} {process.stderr.read()}")
    yield LiveServer(url, folder, process)
    process.terminate()  # SIGTERM: a clean stop, exit 0
    assert process.wait(timeout=20) == 0, process.stderr.read()
