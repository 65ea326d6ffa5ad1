#!/usr/bin/env python3
"""solana-py's own integration suite against the localnet.

    python scripts/run_solana_py_suite.py --checkout PATH [--venv DIR] [--timeout S] [-- PYTEST_ARGS...]

PATH is a checkout of solana-py (github michaelhly/solana-py; measured at tag v0.36.6),
kept outside this repository. Upstream runs `tests/integration` against solana-test-validator
in docker, a fresh container per test module; here `scripts/solana_py_suite_plugin.py` gives
the suite the two fixtures it asks the container of (`docker_ip`, `docker_services`), backed
by a fresh `python -m crowdcompute.localnet` per module. Their files run unmodified, with
their `src/` on the path; their pyproject's addopts (coverage, xdist, docker options) are
dropped, their `asyncio_mode = "auto"` kept.

The suite needs what its lock file pins (pytest 7, which still allows marks on fixtures,
and pytest-asyncio 0.18), which our own tests cannot run with: it runs in a virtual
environment of its own, `--venv` (default `PATH/.venv-localnet`), created on first use with
the versions of the checkout's poetry.lock. The localnet runs under this interpreter.

Prints each failure, the counts, and as its LAST line one JSON object:
{"passed", "failed", "errors", "skipped", "total", "failures": [test ids], "seconds"}.
Exit status: 0 when nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
import venv
import xml.etree.ElementTree as ET
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
LOCALNET_TESTS = SCRIPTS.parent / "tests" / "localnet"  # localnet_ports.py, standard library only
# What the suite imports or runs on, by poetry.lock name; pytest-timeout (not theirs) keeps
# a test that waits for a notification that never comes from stopping the run.
SUITE_PACKAGES = ("pytest", "pytest-asyncio", "asyncstdlib", "httpx", "websockets", "solders", "construct-typing", "typing-extensions")
EXTRA = ("pytest-timeout==2.4.0",)


def locked_versions(checkout: Path, names: tuple[str, ...]) -> list[str]:
    """`name==version` of each package as the checkout's poetry.lock pins it."""
    lock = tomllib.loads((checkout / "poetry.lock").read_text())
    pinned = {package["name"]: package["version"] for package in lock["package"]}
    missing = [name for name in names if name not in pinned]
    if missing:
        raise SystemExit(f"poetry.lock of {checkout} pins no {', '.join(missing)}")
    return [f"{name}=={pinned[name]}" for name in names]


def ensure_venv(checkout: Path, where: Path) -> Path:
    python = where / "bin" / "python"
    if not python.exists():
        print(f"creating {where} for the suite", file=sys.stderr)
        venv.create(where, with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *locked_versions(checkout, SUITE_PACKAGES), *EXTRA], check=True)
    return python


def outcomes(report: Path) -> tuple[dict[str, int], list[str]]:
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failures = []
    for case in ET.parse(report).getroot().iter("testcase"):
        test = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        kinds = {child.tag for child in case}
        if "failure" in kinds:
            counts["failed"] += 1
            failures.append(test)
        elif "error" in kinds:
            counts["errors"] += 1
            failures.append(test)
        elif "skipped" in kinds:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", type=Path, required=True, help="a solana-py checkout (tag v0.36.6)")
    parser.add_argument("--venv", type=Path, default=None, help="the suite's virtual environment; default CHECKOUT/.venv-localnet")
    parser.add_argument("--timeout", type=int, default=120, help="seconds a test may take (pytest-timeout); default 120")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --), e.g. a test file or -k")
    args = parser.parse_args(argv)
    checkout = args.checkout.resolve()
    if not (checkout / "tests" / "integration").is_dir():
        raise SystemExit(f"{checkout} has no tests/integration: not a solana-py checkout")
    python = ensure_venv(checkout, (args.venv or checkout / ".venv-localnet").resolve())
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(SCRIPTS), str(LOCALNET_TESTS), str(checkout / "src")]),
               SOLANA_PY_SUITE_LOCALNET_PYTHON=sys.executable)
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.xml"
        started = time.monotonic()
        subprocess.run(
            [python, "-m", "pytest", "-p", "solana_py_suite_plugin", "-p", "no:anyio", "-p", "no:cacheprovider",
             "-o", "addopts=", "-o", "asyncio_mode=auto", f"--timeout={args.timeout}", "-rfE", "-q",
             f"--junitxml={report}", *(args.pytest_args or ["tests/integration"])],
            cwd=checkout, env=env)
        seconds = round(time.monotonic() - started, 1)
        if not report.exists():
            raise SystemExit("pytest wrote no report")
        counts, failures = outcomes(report)
    total = sum(counts.values())
    print(f"\n{counts['passed']} passed of {total - counts['skipped']} run ({counts['failed']} failed, "
          f"{counts['errors']} errors, {counts['skipped']} skipped) in {seconds} s")
    for test in failures:
        print(f"  not passed: {test}")
    print(json.dumps({**counts, "total": total, "failures": failures, "seconds": seconds}))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
