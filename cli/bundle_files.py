"""Writing a job's result bundle (fetched and verified by CrowdClient.result_bundle) to a
folder: bundle.json as fetched, each op's logs, and the output files it carries."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any



async def fetch_bundle(crowd: Any, job: Any) -> tuple[str, bytes, Any]:
    return await crowd.result_bundle(job)


def write_bundle(folder: Path, data: bytes, bundle: Any) -> Path:
    """bundle.json (as fetched), each op's logs, and the output files it carries."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bundle.json"
    path.write_bytes(data)
    for op in bundle.ops:
        op_dir = folder / _safe(op.id)
        op_dir.mkdir(exist_ok=True)
        (op_dir / "stdout.log").write_text(op.stdout.text)
        (op_dir / "stderr.log").write_text(op.stderr.text)
        for output in op.outputs:
            if output.content is not None:
                target = op_dir / "outputs" / _safe(output.path.lstrip("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(base64.b64decode(output.content) if isinstance(output.content, str) else output.content)
    return path


def _safe(name: str) -> str:
    """A path inside the folder: no absolute paths or .. from a bundle's names."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or "_"
