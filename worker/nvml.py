"""GPUs through NVML (the `pynvml` module of NVIDIA's nvidia-ml-py, via the pynvml package).

`read_gpus(nvml)` takes anything that presents pynvml's functions; by default the real
module. No pynvml, no driver, no GPU: an empty reading with the reason, which is fine
for CPU markets. A field a card does not support (utilisation on some boards) is None.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class GpuInfo:
    index: int
    name: str
    uuid: str | None
    memory_total: int  # bytes
    memory_used: int | None
    utilization: int | None  # percent of time a kernel ran, last sample period
    memory_utilization: int | None
    temperature_c: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GpuReading:
    gpus: tuple[GpuInfo, ...] = ()
    driver_version: str | None = None
    cuda_version: str | None = None  # the newest CUDA the driver supports, "13.0"
    error: str | None = None  # why there are no GPUs, when there are none

    def to_json(self) -> dict[str, Any]:
        return {
            "count": len(self.gpus),
            "gpus": [gpu.to_json() for gpu in self.gpus],
            "driver_version": self.driver_version,
            "cuda_version": self.cuda_version,
            "error": self.error,
        }


def load_pynvml() -> Any:
    with warnings.catch_warnings():
        # The pynvml package warns that it is a shim over nvidia-ml-py; the module is the same.
        warnings.simplefilter("ignore", FutureWarning)
        import pynvml
    return pynvml


def read_gpus(nvml: Any = None) -> GpuReading:
    if nvml is None:
        try:
            nvml = load_pynvml()
        except ImportError:
            return GpuReading(error="pynvml is not installed (pip install 'crowdcompute[worker]')")
    try:
        nvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - NVMLError_LibraryNotFound, DriverNotLoaded, ...
        return GpuReading(error=f"NVML: {_text(exc) or type(exc).__name__} (no NVIDIA driver?)")
    try:
        driver = _text(nvml.nvmlSystemGetDriverVersion())
        cuda = _optional(lambda: _cuda_text(nvml.nvmlSystemGetCudaDriverVersion()))
        gpus = tuple(_device(nvml, i) for i in range(nvml.nvmlDeviceGetCount()))
        return GpuReading(gpus, driver, cuda)
    except Exception as exc:  # noqa: BLE001 - a reading that fails midway is no reading
        return GpuReading(error=f"NVML: {_text(exc) or type(exc).__name__}")
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - nothing to undo
            pass


def _device(nvml: Any, index: int) -> GpuInfo:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
    rates = _optional(lambda: nvml.nvmlDeviceGetUtilizationRates(handle))
    return GpuInfo(
        index=index,
        name=_text(nvml.nvmlDeviceGetName(handle)),
        uuid=_optional(lambda: _text(nvml.nvmlDeviceGetUUID(handle))),
        memory_total=int(memory.total),
        memory_used=int(memory.used),
        utilization=None if rates is None else int(rates.gpu),
        memory_utilization=None if rates is None else int(rates.memory),
        temperature_c=_optional(lambda: int(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))),
    )


def _optional(read: Any) -> Any:
    try:
        return read()
    except Exception:  # noqa: BLE001 - NVMLError_NotSupported and kin: the field is unknown
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _cuda_text(version: int) -> str:
    """NVML's 13000 -> "13.0" (major * 1000 + minor * 10)."""
    return f"{version // 1000}.{version % 1000 // 10}"
