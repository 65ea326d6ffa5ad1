"""Resource benchmark (a script, not a test): how much later a job's op starts when it needs a
resource the node already holds, against a job that needs none. On the real engine, with
the Hugging Face-compatible test endpoint on loopback (tests/worker/resource_servers.py);
the executor alone, no chain. Prints one JSON object as its LAST line:

  no_resource_start_p50_s       run() called -> the op starts (the bundle's started_at), no resource
  cached_resource_start_p50_s   the same for a job whose HF resource is cached (one call to the
                                Hub for the revision's commit, the volume checked, mounted read-only)
  cached_resource_extra_p50_s   their difference (the target: under 0.2 s)
  first_download_s              the first job's download of the resource (10 MiB, verified)

    .venv/bin/python scripts/bench_resources.py --jobs 10   (bench_worker.py runs it too)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test helpers, imported as tests.*

from crowdcompute.client.bundle import parse_timestamp  # noqa: E402
from crowdcompute.client.jobspec import parse  # noqa: E402
from crowdcompute.worker.engine import Engine  # noqa: E402
from crowdcompute.worker.executor import Executor, JobRun  # noqa: E402
from crowdcompute.worker.local_image import IMAGE, ensure_image  # noqa: E402
from crowdcompute.worker.resources import ResourceCache, Sources  # noqa: E402
from tests.worker.resource_servers import HubServer  # noqa: E402


def definition(resources: list[dict]) -> object:
    return parse({"version": "0.1", "type": "container", "ops": [
        {"type": "container/run", "id": "op", "args": {"image": IMAGE, "cmd": ["true"], "resources": resources}}]})


async def start_after(executor: Executor, defn: object, job: str) -> tuple[float, object]:
    t0 = time.time()
    bundle = await executor.run(defn, JobRun(job, "bench-node", "bench-poster", "bafybench", time.time() + 120))
    assert bundle.status == "succeeded", bundle.render()
    return parse_timestamp(bundle.ops[0].started_at).timestamp() - t0, bundle


def resource_start(jobs: int = 10) -> dict[str, float]:
    engine = Engine(timeout=30)
    ensure_image(engine.api)
    hub = HubServer()
    hub.add("bench/model", {"config.json": b"{}", "model.safetensors": b"\x07" * (10 << 20)}, lfs={"model.safetensors"})
    tmp = Path(tempfile.mkdtemp(prefix="crowd-bench-res-"))
    cache = ResourceCache(engine, tmp / "state", sources=Sources(hf_endpoint=hub.url), node=f"bench-{int(time.time())}")
    executor = Executor(engine, work_dir=tmp / "work", log_dir=tmp / "logs", node="bench-node", resources=cache)
    none, cached = definition([]), definition([{"type": "HF", "repo": "bench/model", "target": "/models"}])

    async def run() -> dict[str, float]:
        _, first = await start_after(executor, cached, "benchres0")
        plain, held = [], []
        for i in range(jobs):
            plain.append((await start_after(executor, none, f"benchplain{i}"))[0])
            seconds, bundle = await start_after(executor, cached, f"benchres{i + 1}")
            assert bundle.resources[0].cached
            held.append(seconds)
        a, b = statistics.median(plain), statistics.median(held)
        return {"no_resource_start_p50_s": round(a, 3), "cached_resource_start_p50_s": round(b, 3),
                "cached_resource_extra_p50_s": round(b - a, 3), "first_download_s": first.resources[0].download_ms / 1000}

    try:
        return asyncio.run(run())
    finally:
        for volume in [e.volume for e in cache.entries.values()]:
            engine.api.remove_volume(volume, force=True)
        hub.stop()
        engine.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=10, help="jobs of each kind (default 10)")
    result = resource_start(max(1, ap.parse_args().jobs))
    for k, v in result.items():
        print(f"{k:30} {v}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
