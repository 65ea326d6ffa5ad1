"""The wheel is enough to run the localnet: it ships the IDLs, the built programs and their
ids, and an installed package (no checkout around it) finds and loads them."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from tests.localnet.localnet_helpers import free_port_pair

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("dist"))


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("crowdcompute-*.whl")
    return wheel


def test_wheel_ships_programs_and_ids(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"crowdcompute/programs/jobs.so", "crowdcompute/programs/staking.so", "crowdcompute/programs/Anchor.toml",
            "crowdcompute/idl/jobs.json", "crowdcompute/idl/staking.json"} <= names
    # The test-only slash probe is never shipped.
    assert not any("slash_probe" in name for name in names)


def test_installed_wheel_runs_the_localnet_with_our_programs(wheel, tmp_path):
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    zipfile.ZipFile(wheel).extractall(purelib)  # a pure-Python wheel installs by unpacking
    # Dependencies come from this test's environment, after the wheel's own files.
    (purelib / "deps.pth").write_text("\n".join(p for p in site.getsitepackages() if "site-packages" in p) + "\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    where = subprocess.run([python, "-c", "import json, crowdcompute.localnet as localnet; from crowdcompute.localnet.server import default_programs; "
                            "print(json.dumps([localnet.__file__, {str(k): str(v) for k, v in default_programs().items()}]))"],
                           cwd=outside, env=env, check=True, capture_output=True, text=True, timeout=60)
    package_file, programs = json.loads(where.stdout)
    assert Path(package_file).is_relative_to(purelib)  # the installed copy, not the checkout
    assert programs == {"89sBEmkPQeUE9MKrTSCcSbdkWbe4Y1gQUp4f3qvAgQFv": str(purelib / "crowdcompute" / "programs" / "jobs.so"),
                        "2733cGnUXvSePAXfnTLw4mLieT5hVRDs9D9mut8PhL4R": str(purelib / "crowdcompute" / "programs" / "staking.so")}

    port = free_port_pair()
    server = subprocess.Popen([python, "-m", "crowdcompute.localnet", "--rpc-port", str(port), "--ledger", str(tmp_path / "ledger"), "--quiet"],
                              cwd=outside, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "getAccountInfo",
                                   "params": ["89sBEmkPQeUE9MKrTSCcSbdkWbe4Y1gQUp4f3qvAgQFv", {"encoding": "base64"}]}).encode()
                with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}), timeout=5) as reply:
                    value = json.loads(reply.read())["result"]["value"]
                break
            except OSError:
                assert time.monotonic() < deadline, "the installed localnet did not answer"
                assert server.poll() is None, "the installed localnet exited"
                time.sleep(0.05)
        assert value["executable"] is True
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0


PARTS = ("cli", "client", "common", "localnet", "sandbox", "worker")


def test_every_package_folder_is_listed(wheel):
    """Each top-level part maps to crowdcompute.<part> (pyproject's package-dir); setuptools
    ships only the packages listed, so a new folder must be listed too: checked here."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"crowdcompute." + ".".join(init.parent.relative_to(REPO).parts)
               for part in PARTS if (REPO / part).is_dir() for init in (REPO / part).rglob("__init__.py")}
    assert folders <= listed, f"not listed in pyproject.toml: {sorted(folders - listed)}"
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in folders:
        assert package.replace(".", "/") + "/__init__.py" in names


def test_every_part_readme_ships(wheel):
    """The parts' READMEs are their documentation (client/README.md: the SDK's): in the wheel
    beside the code, so that an installed package carries them."""
    names = set(zipfile.ZipFile(wheel).namelist())
    readmes = {"crowdcompute/" + str(readme.relative_to(REPO)) for part in PARTS for readme in (REPO / part).rglob("README.md")}
    assert "crowdcompute/client/README.md" in readmes
    assert readmes <= names, f"not in the wheel: {sorted(readmes - names)}"
