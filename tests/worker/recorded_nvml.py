"""A recorded NVML reading presented through pynvml's own function names and shapes.

The fixture (shared/fixtures/nvml-h100.json) is what pynvml returned on an H100 node;
this adapter hands those values to crowdcompute.worker.nvml.read_gpus exactly as the
pynvml module would (objects with .total/.used/.free, .gpu/.memory, strings, an int CUDA
version), so the code that reads real GPUs is the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any


class NVMLError(Exception):
    """pynvml.NVMLError's place: raised for what the recording does not hold."""


class RecordedNVML:
    NVMLError = NVMLError
    NVML_TEMPERATURE_GPU = 0

    def __init__(self, path: Path) -> None:
        self.reading = json.loads(path.read_text())
        self.initialised = 0

    def nvmlInit(self) -> None:
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self.initialised -= 1

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.reading["driver"]

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return int(self.reading["cuda_driver_version"])

    def nvmlDeviceGetCount(self) -> int:
        return int(self.reading["count"])

    def nvmlDeviceGetHandleByIndex(self, index: int) -> dict[str, Any]:
        return self.reading["devices"][index]

    def nvmlDeviceGetName(self, handle: dict[str, Any]) -> str:
        return handle["name"]

    def nvmlDeviceGetUUID(self, handle: dict[str, Any]) -> str:
        return handle["uuid"]

    def nvmlDeviceGetMemoryInfo(self, handle: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(**handle["memory"])

    def nvmlDeviceGetUtilizationRates(self, handle: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(**handle["utilization"])

    def nvmlDeviceGetTemperature(self, handle: dict[str, Any], sensor: int) -> int:
        if sensor != self.NVML_TEMPERATURE_GPU:
            raise NVMLError("Not Supported")
        return int(handle["temperature_c"])


class NoDriver:
    """What pynvml does on a machine without NVIDIA's driver: nvmlInit raises."""

    class NVMLError(Exception):
        pass

    def nvmlInit(self) -> None:
        raise self.NVMLError("Driver Not Loaded")
