"""An op's resource use from the engine's stats of its container (Docker's and Podman's
`GET /containers/{id}/stats?stream=false`), in the node API's units.

cpu_percent is `docker stats`'s: the container's CPU time over the host's in the sample
period, times the CPUs it may use, so 100 is one CPU busy. memory_bytes is also the CLI's:
usage less the inactive page cache (which the kernel reclaims before an OOM kill), so it
is what counts against memory_limit.
"""

from __future__ import annotations

from typing import Any

from ..nvml import GpuReading

__all__ = ["container_stats", "gpu_stats"]


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def container_stats(raw: dict[str, Any]) -> dict[str, Any]:
    cpu = raw.get("cpu_stats") or {}
    pre = raw.get("precpu_stats") or {}
    cpu_delta = _int((cpu.get("cpu_usage") or {}).get("total_usage")) - _int((pre.get("cpu_usage") or {}).get("total_usage"))
    system_delta = _int(cpu.get("system_cpu_usage")) - _int(pre.get("system_cpu_usage"))
    online = _int(cpu.get("online_cpus")) or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or ()) or 1
    cpu_percent = cpu_delta / system_delta * online * 100.0 if cpu_delta > 0 and system_delta > 0 else 0.0

    memory = raw.get("memory_stats") or {}
    detail = memory.get("stats") or {}
    # cgroup v2 names it inactive_file, v1 total_inactive_file
    inactive = _int(detail.get("inactive_file", detail.get("total_inactive_file")))
    usage = _int(memory.get("usage"))
    networks = raw.get("networks") or {}
    return {
        "cpu_percent": round(cpu_percent, 2),
        "memory_bytes": usage - inactive if inactive < usage else usage,
        "memory_limit": _int(memory.get("limit")),
        "net_rx_bytes": sum(_int(n.get("rx_bytes")) for n in networks.values()),
        "net_tx_bytes": sum(_int(n.get("tx_bytes")) for n in networks.values()),
        "pids": _int((raw.get("pids_stats") or {}).get("current")),
    }


def gpu_stats(reading: GpuReading) -> list[dict[str, Any]]:
    """The node's GPUs as an op that asked for GPUs sees them (such an op gets all of the
    node's: containers.py), device-wide: NVML's per-process figures need host pids, which
    a container engine does not hand out."""
    return [
        {
            "index": gpu.index, "name": gpu.name, "uuid": gpu.uuid,
            "utilization": gpu.utilization, "memory_used": gpu.memory_used, "memory_total": gpu.memory_total,
        }
        for gpu in reading.gpus
    ]
