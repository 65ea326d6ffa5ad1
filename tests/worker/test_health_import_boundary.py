"""crowdcompute.client never imports the worker's SDKs; `crowd` loads them only for `crowd node`."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
{imports}
heavy = sorted(m for m in ("docker", "pynvml", "crowdcompute.worker") if m in sys.modules)
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


def test_crowd_parser_imports_no_worker_sdk():
    assert loaded_after("from crowdcompute.cli.main import build_parser; build_parser()") == ""
