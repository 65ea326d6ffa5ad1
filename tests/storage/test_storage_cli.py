"""`crowd storage add|get|serve`: every command's happy path and the errors a user can cause,
against the live server and a local folder. Errors are one line on stderr, exit 1, no traceback."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from crowdcompute.cli import main
from crowdcompute.client.storage.unixfs import CHUNK_SIZE, cid_of

from .conftest import CROWD
from .vectors import HELLO_WORLD_NL, deterministic_bytes

HELLO, HELLO_CID = HELLO_WORLD_NL
HELLO_DIGEST = "46d44814b9c5af141c3aaab7c05dc5e844ead5f91f12858b021eba45768b4c0e"


def one_error_line(err: str, *fragments: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def hello(tmp_path):
    path = tmp_path / "hello.txt"
    path.write_bytes(HELLO)
    return path


@pytest.fixture(params=["server", "folder"])
def storage(request, storage_server, tmp_path) -> str:
    return storage_server.url if request.param == "server" else str(tmp_path / "store")


def test_add_prints_the_cid(storage, hello, capsys):
    assert main(["storage", "add", str(hello), "--storage", storage]) == 0
    out, err = capsys.readouterr()
    assert out == HELLO_CID + "\n"
    assert "added" in err and HELLO_DIGEST in err


def test_add_json(storage, hello, capsys):
    assert main(["storage", "add", str(hello), "--storage", storage, "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"cid": HELLO_CID, "digest": HELLO_DIGEST, "size": 12}


def test_get_to_a_file(storage, tmp_path, capsys):
    content = deterministic_bytes(2 * CHUNK_SIZE + 1, "cli-get")
    source = tmp_path / "content.bin"
    source.write_bytes(content)
    assert main(["storage", "add", str(source), "--storage", storage]) == 0
    cid = capsys.readouterr().out.strip()
    assert cid == str(cid_of(content))
    out_file = tmp_path / "out.bin"
    assert main(["storage", "get", cid, "-o", str(out_file), "--storage", storage, "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"cid": cid, "digest": cid_of(content).hex, "size": len(content),
                                                   "path": str(out_file)}
    assert out_file.read_bytes() == content
    assert main(["storage", "get", cid, "-o", str(out_file), "--storage", storage]) == 0  # replaces it
    assert "verified" in capsys.readouterr().err and out_file.read_bytes() == content


def test_get_to_stdout_writes_the_verified_bytes(storage, hello, capsysbinary):
    assert main(["storage", "add", str(hello), "--storage", storage]) == 0
    capsysbinary.readouterr()
    assert main(["storage", "get", HELLO_CID, "--storage", storage]) == 0
    assert capsysbinary.readouterr().out == HELLO


def test_get_refuses_a_corrupted_blob(storage_server, tmp_path, capsys):
    content = deterministic_bytes(CHUNK_SIZE + 3, "cli-corrupt")
    source = tmp_path / "c.bin"
    source.write_bytes(content)
    assert main(["storage", "add", str(source), "--storage", storage_server.url]) == 0
    cid = capsys.readouterr().out.strip()
    storage_server.blob(cid).write_bytes(b"forged")
    out_file = tmp_path / "out.bin"
    assert main(["storage", "get", cid, "-o", str(out_file), "--storage", storage_server.url]) == 1
    out, err = capsys.readouterr()
    one_error_line(err, "content mismatch", cid, str(cid_of(b"forged")))
    assert out == "" and not out_file.exists()
    # to stdout too: nothing of the forged content is written
    assert main(["storage", "get", cid, "--storage", storage_server.url]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "content mismatch" in err


def test_add_errors(storage, tmp_path, capsys):
    assert main(["storage", "add", str(tmp_path / "missing.txt"), "--storage", storage]) == 1
    one_error_line(capsys.readouterr().err, "no such file", "missing.txt")
    assert main(["storage", "add", str(tmp_path), "--storage", storage]) == 1
    one_error_line(capsys.readouterr().err, "not a file")


def test_get_errors(storage, hello, tmp_path, capsys):
    assert main(["storage", "get", "not-a-cid", "--storage", storage]) == 1
    one_error_line(capsys.readouterr().err, "invalid CID", "not-a-cid")
    absent = str(cid_of(b"absent from the cli"))
    assert main(["storage", "get", absent, "-o", str(tmp_path / "x"), "--storage", storage]) == 1
    one_error_line(capsys.readouterr().err, absent)
    assert not (tmp_path / "x").exists()
    assert main(["storage", "get", HELLO_CID, "--output", "json", "--storage", storage]) == 1
    one_error_line(capsys.readouterr().err, "needs -o")
    assert main(["storage", "add", str(hello), "--storage", storage]) == 0
    capsys.readouterr()
    assert main(["storage", "get", HELLO_CID, "-o", str(tmp_path / "no" / "such" / "dir"), "--storage", storage]) == 1
    one_error_line(capsys.readouterr().err, "No such file or directory", str(tmp_path / "no" / "such" / "dir"))


def test_unreachable_storage(hello, unused_tcp_port, capsys):
    url = f"http://127.0.0.1:{unused_tcp_port}"
    assert main(["storage", "add", str(hello), "--storage", url]) == 1
    one_error_line(capsys.readouterr().err, "cannot reach storage", url)
    assert main(["storage", "get", HELLO_CID, "--storage", url]) == 1
    one_error_line(capsys.readouterr().err, "cannot reach storage", url)


def test_upload_over_the_server_limit(storage_server, tmp_path, capsys):
    from .conftest import MAX_UPLOAD

    big = tmp_path / "big.bin"
    big.write_bytes(bytes(MAX_UPLOAD + 1))
    assert main(["storage", "add", str(big), "--storage", storage_server.url]) == 1
    one_error_line(capsys.readouterr().err, "413", "limit")


def test_default_storage_is_the_env_var_or_the_data_folder(hello, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CROWD_STORAGE", str(tmp_path / "from-env"))
    assert main(["storage", "add", str(hello)]) == 0
    assert (tmp_path / "from-env" / "blobs" / HELLO_CID).is_file()
    monkeypatch.delenv("CROWD_STORAGE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert main(["storage", "add", str(hello)]) == 0
    assert (tmp_path / "xdg" / "crowdcompute" / "storage" / "blobs" / HELLO_CID).is_file()


def test_help_and_usage(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["storage", "add", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--storage" in out and "CROWD_STORAGE" in out and "--output" in out
    with pytest.raises(SystemExit) as exited:
        main(["storage", "get"])
    assert exited.value.code == 2
    assert main(["storage"]) == 2  # no subcommand: help on stderr
    assert "add" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["storage", "serve", "--max-upload-size", "lots"])
    assert exited.value.code == 2 and "not a size" in capsys.readouterr().err


def test_serve_on_a_busy_port_fails_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(CROWD + ["storage", "serve", "--dir", str(tmp_path), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    one_error_line(done.stderr, f"cannot listen on 127.0.0.1:{port}")


def test_serve_defaults_are_documented():
    from crowdcompute.cli.storage import _byte_size
    from crowdcompute.client.storage.server_defaults import DEFAULT_MAX_UPLOAD, DEFAULT_PORT

    assert DEFAULT_PORT == 8901 and DEFAULT_MAX_UPLOAD == _byte_size("1GiB") == 1 << 30
    assert _byte_size("512MiB") == 512 << 20 and _byte_size("1000") == 1000 and _byte_size("2 GB") == 2 * 10**9


def test_an_unknown_storage_scheme_is_one_error_line(hello, capsys):
    assert main(["storage", "add", str(hello), "--storage", "s3://bucket"]) == 1
    one_error_line(capsys.readouterr().err, "unknown storage scheme 's3'", "http://, https://, file://")
