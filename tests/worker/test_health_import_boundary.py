"""crowdcompute.client never imports the worker's SDKs; `crowd` loads them only for `crowd node`
(its parser takes `crowd node start`'s flags from the worker's API, which loads options.py alone)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
{imports}
# the worker's command line (its API module and options.py) is all a parser may load of it
light = ("crowdcompute.worker", "crowdcompute.worker.api", "crowdcompute.worker.options")
heavy = sorted(m for m in sys.modules if m in ("docker", "pynvml")
               or (m.startswith("crowdcompute.worker") and m not in light))
print(",".join(heavy))
"""


def loaded_after(imports: str) -> str:
    done = subprocess.run([sys.executable, "-c", CHECK.format(imports=imports)], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_client_imports_no_worker_sdk():
    assert loaded_after(
        "import crowdcompute.client, crowdcompute.client.bundle, crowdcompute.client.storage\n"
        "from crowdcompute.client.jobspec import parse, plan, resolve_args, extract_results, vram_satisfies"
    ) == ""


def test_client_imports_no_worker():
    assert "crowdcompute.worker" not in subprocess.run(
        [sys.executable, "-c", "import sys, crowdcompute.client.crowd, crowdcompute.client.storage; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True).stdout


def test_crowd_parser_imports_no_worker_sdk():
    assert loaded_after("from crowdcompute.cli.main import build_parser; build_parser()") == ""
