"""The machine a benchmark ran on, as the report prints it: CPU model and usable cores, memory, the versions of
the libraries that do the work, the devices they can use, and how loaded the machine was when the run began."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path
from typing import Any

from ingestion.ocr.rapid import resolve_device, usable_cores
from knowledge.retrieval.vector_index import gpu_available


def describe() -> dict[str, Any]:
    import faiss
    import numpy
    import onnxruntime

    out: dict[str, Any] = {
        "cpus": usable_cores(),
        "cpu_model": _cpu_model(),
        "ram_gb": _ram_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "onnxruntime": onnxruntime.__version__,
        "onnxruntime_providers": onnxruntime.get_available_providers(),
        "faiss": faiss.__version__,
        "faiss_gpus": faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0,
        # What the code picks by itself on this machine (RXLENS_OCR_DEVICE=auto, RXLENS_FAISS_GPU=true).
        "ocr_device": resolve_device("auto"),
        "faiss_on_gpu": gpu_available(),
        "load_average": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return 0.0
