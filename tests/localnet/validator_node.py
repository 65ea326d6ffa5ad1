"""solana-test-validator as a subprocess for the `validator` tier: the jobs program loaded at
genesis at its Anchor.toml address (`--bpf-program`), free ports, its log beside the ledger,
and a skip with a clear reason when the binary is not on PATH. Shared by the parity tests
(tests/localnet/test_validator_parity.py) and the end-to-end worker tests
(tests/worker/test_e2e_validator.py)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from .localnet_helpers import REPO, free_port_pair, rpc

VALIDATOR_BIN = "solana-test-validator"
SKIP_REASON = "solana-test-validator not on PATH"
JOBS_SO = REPO / "target" / "deploy" / "jobs.so"


@dataclass(frozen=True)
class ValidatorProcess:
    url: str
    ws_url: str
    proc: subprocess.Popen
    log: Path


def _free_tcp_udp(port: int) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", port))
            u.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False


def free_port_range(width: int, low: int = 20_000, high: int = 60_000) -> tuple[int, int]:
    """[start, start + width) with every port free for TCP and UDP (best effort: not reserved)."""
    for _ in range(200):
        start = random.randrange(low, high - width)
        if all(_free_tcp_udp(p) for p in range(start, start + width)):
            return start, start + width
    raise RuntimeError(f"no {width} consecutive free ports")


def jobs_program_id() -> str:
    with open(REPO / "Anchor.toml", "rb") as f:
        return tomllib.load(f)["programs"]["localnet"]["jobs"]


def _tails(logs: list[Path]) -> str:
    return "\n".join(f"--- {log} ---\n{log.read_text(errors='replace')[-3000:]}" for log in logs if log.is_file())


def wait_health(url: str, proc: subprocess.Popen, timeout: float, logs: list[Path] = ()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}\n{_tails(logs)}")
        try:
            if rpc(url, "getHealth", timeout=1).get("result") == "ok":
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} not healthy after {timeout}s\n{_tails(logs)}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


def validator_binary() -> str:
    """The binary's path, or a skip (with the reason) when it or jobs.so is missing."""
    binary = shutil.which(VALIDATOR_BIN)
    if binary is None:
        pytest.skip(SKIP_REASON)
    if not JOBS_SO.is_file():
        pytest.skip(f"{JOBS_SO} is missing: build the programs first")
    return binary


def run_validator(ledger: Path) -> Iterator[ValidatorProcess]:
    """A fresh (--reset) solana-test-validator in `ledger`, yielded once blockhashes are
    served at `confirmed`; stopped (SIGINT, then SIGKILL) when the generator closes. Skips
    when the binary is absent: call it first in a fixture, so a skip starts nothing."""
    binary = validator_binary()
    rpc_port = free_port_pair()  # PubSub is on rpc_port + 1, as on the localnet
    faucet_port = free_port_pair()
    gossip_port = free_port_pair()
    low, high = free_port_range(200)
    log = ledger.parent / f"{ledger.name}.log"  # outside the ledger: --reset wipes it
    args = [binary, "--reset", "--quiet", "--ledger", str(ledger),
            "--bind-address", "127.0.0.1",
            "--rpc-port", str(rpc_port), "--faucet-port", str(faucet_port),
            "--gossip-port", str(gossip_port), "--dynamic-port-range", f"{low}-{high}",
            "--bpf-program", jobs_program_id(), str(JOBS_SO)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=ledger.parent, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{rpc_port}"
    try:
        wait_health(url, proc, 60, [log, ledger / "validator.log"])  # --quiet logs to the ledger
        # Healthy before the first slot is confirmed: wait until blockhashes are served.
        deadline = time.monotonic() + 30
        while "error" in rpc(url, "getLatestBlockhash", [{"commitment": "confirmed"}], timeout=30) and time.monotonic() < deadline:
            time.sleep(0.25)
        yield ValidatorProcess(url, f"ws://127.0.0.1:{rpc_port + 1}", proc, ledger / "validator.log")
    finally:
        stop(proc)
