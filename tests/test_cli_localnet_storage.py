"""`crowd localnet` starts the storage server beside the chain (cli/localnet_storage.py);
`python -m crowdcompute.localnet` alone, or `--storage-port 0`, does not."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from crowdcompute.client.storage import Cid

from tests.localnet.localnet_helpers import free_port_pair, rpc

REPO = Path(__file__).resolve().parents[1]
CROWD = [sys.executable, "-c", "import sys; from crowdcompute.cli import main; sys.exit(main())"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(ledger: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port_pair()
    proc = subprocess.Popen([*CROWD, "localnet", "--rpc-port", str(port), "--ledger", str(ledger), "--reset", "--slot-ms", "50", *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if rpc(url, "getHealth", timeout=1).get("result") == "ok":
                return proc, url
        except OSError:
            time.sleep(0.02)
    raise TimeoutError("crowd localnet did not answer")


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    return out


def _wait_storage(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{url}/api/v0/version", method="POST"), timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


def test_crowd_localnet_serves_storage_in_its_ledger(tmp_path):
    port = _free_port()
    proc, _ = _start(tmp_path / "ledger", "--storage-port", str(port))
    try:
        storage = f"http://127.0.0.1:{port}"
        _wait_storage(storage)
        body = b"hello world\n"
        boundary = "crowdtest"
        form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(f"{storage}/api/v0/add", data=form, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert b"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o" in reply.read()
        with urllib.request.urlopen(f"{storage}/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", timeout=10) as reply:
            assert reply.read() == body
        assert any((tmp_path / "ledger" / "storage").rglob(str(Cid.parse("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")))), "the blob lives in the ledger's storage folder"
    finally:
        out = _stop(proc)
    assert f"storage http://127.0.0.1:{port}" in out


def test_storage_port_zero_serves_no_storage(tmp_path):
    proc, _ = _start(tmp_path / "ledger", "--storage-port", "0")
    try:
        time.sleep(0.3)  # a companion starts after the RPC answers: give it the time it would take
    finally:
        out = _stop(proc)
    assert "localnet: storage" not in out
    assert not (tmp_path / "ledger" / "storage").exists()


def test_bad_storage_port_is_one_clear_line(tmp_path):
    result = subprocess.run([*CROWD, "localnet", "--ledger", str(tmp_path / "l"), "--reset", "--rpc-port", str(free_port_pair()), "--storage-port", "70000"],
                            cwd=REPO, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "--storage-port must be between 1 and 65535" in result.stderr and "Traceback" not in result.stderr
