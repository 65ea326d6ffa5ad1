"""The node API's signed header (client/node_api/auth.py): the one definition both sides
use. The message is pinned (a change breaks every deployed node), and each way to get a
header wrong is refused with a reason."""

from __future__ import annotations

import subprocess
import sys

import pytest
from solders.keypair import Keypair

from crowdcompute.client.errors import CrowdError
from crowdcompute.client.node_api import (
    MAX_AHEAD_S, NodeUnauthorized, auth_header, auth_message, parse_log_line, verify_auth,
)

POSTER = Keypair.from_seed(bytes(range(32)))
OWNER = str(POSTER.pubkey())
NOW = 1_800_000_000


def test_message_is_pinned():
    assert auth_message("JobA", "NodeB", NOW + 60) == (
        b"crowdcompute node api v1\njob JobA\nnode NodeB\nexpires 1800000060")


def test_header_round_trip():
    header = auth_header(POSTER, "JobA", "NodeB", NOW + 60)
    scheme, token = header.split(" ")
    signer, expires, signature = token.split(":")
    assert scheme == "CrowdSig" and signer == OWNER and expires == str(NOW + 60) and len(signature) > 80
    assert verify_auth(header, "JobA", "NodeB", OWNER, NOW) is None


def test_default_expiry_is_short_and_accepted():
    import time

    header = auth_header(POSTER, "JobA", "NodeB")
    expires = int(header.split(":")[1])
    assert 0 < expires - time.time() <= MAX_AHEAD_S
    verify_auth(header, "JobA", "NodeB", OWNER, time.time())


@pytest.mark.parametrize("case, header, job, node, owner, now, reason", [
    ("none", None, "JobA", "NodeB", OWNER, NOW, "missing"),
    ("empty", "", "JobA", "NodeB", OWNER, NOW, "missing"),
    ("scheme", "Bearer x:y:z", "JobA", "NodeB", OWNER, NOW, "scheme"),
    ("parts", "CrowdSig a:b", "JobA", "NodeB", OWNER, NOW, "malformed"),
    ("not base58", f"CrowdSig {OWNER}:{NOW + 60}:0OIl", "JobA", "NodeB", OWNER, NOW, "malformed"),
    ("not a number", f"CrowdSig {OWNER}:soon:1111", "JobA", "NodeB", OWNER, NOW, "malformed"),
    ("expired", auth_header(POSTER, "JobA", "NodeB", NOW), "JobA", "NodeB", OWNER, NOW, "expired"),
    ("too far", auth_header(POSTER, "JobA", "NodeB", NOW + MAX_AHEAD_S + 1), "JobA", "NodeB", OWNER, NOW, "at most"),
    ("another wallet", auth_header(Keypair(), "JobA", "NodeB", NOW + 60), "JobA", "NodeB", OWNER, NOW, "signed by"),
    ("another job", auth_header(POSTER, "JobZ", "NodeB", NOW + 60), "JobA", "NodeB", OWNER, NOW, "signature is not"),
    ("another node", auth_header(POSTER, "JobA", "NodeZ", NOW + 60), "JobA", "NodeB", OWNER, NOW, "signature is not"),
    ("no owner", auth_header(POSTER, "JobA", "NodeB", NOW + 60), "JobA", "NodeB", None, NOW, "does not run"),
    ("too long", "CrowdSig " + "1" * 600, "JobA", "NodeB", OWNER, NOW, "longer"),
])
def test_refused(case, header, job, node, owner, now, reason):
    with pytest.raises(NodeUnauthorized, match=reason) as err:
        verify_auth(header, job, node, owner, now)
    assert isinstance(err.value, CrowdError) and err.value.status == 401


def test_a_signature_cannot_move_to_another_expiry():
    signer, expires, signature = auth_header(POSTER, "JobA", "NodeB", NOW + 60).split(" ")[1].split(":")
    with pytest.raises(NodeUnauthorized, match="signature is not"):
        verify_auth(f"CrowdSig {signer}:{NOW + 300}:{signature}", "JobA", "NodeB", OWNER, NOW)


@pytest.mark.parametrize("job", ["Job\nnode X", "a:b", "", "x" * 65, "jöb", "a b"])
def test_names_that_could_make_two_readings_are_refused(job):
    with pytest.raises(NodeUnauthorized, match="not an address"):
        auth_message(job, "NodeB", NOW)
    with pytest.raises(NodeUnauthorized):
        verify_auth(auth_header(POSTER, "JobA", "NodeB", NOW + 60), job, "NodeB", OWNER, NOW)


def test_log_line_format():
    line = parse_log_line("2026-12-07T17:37:09.123456Z llm stdout| ready: 8000 | ok")
    assert (line.time, line.op, line.stream, line.text) == ("2026-12-07T17:37:09.123456Z", "llm", "stdout", "ready: 8000 | ok")
    assert parse_log_line("[crowdcompute: this log file stops at 10 bytes; ...]") is None
    assert parse_log_line("2026-12-07T17:37:09Z - node| op llm started").op == "-"


def test_the_client_side_imports_no_worker_docker_or_nvml():
    code = ("import sys, crowdcompute.client.node_api; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('docker', 'pynvml') or m.startswith('crowdcompute.worker')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
