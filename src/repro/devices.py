"""Where the computation runs: the chapters' ``device`` parameter turned into a :class:`torch.device`.

Every chapter has a ``device`` parameter, one of :data:`DEVICES` as :data:`DEVICE_HELP` describes them.
:func:`check_device` validates it (the runner calls it before executing anything), :func:`resolve_device` turns it
into a :class:`torch.device`, and :func:`describe_device` names the result for a results file
(:mod:`repro.book.results`), e.g. ``"cpu"`` or ``"cuda (NVIDIA H100 80GB HBM3)"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported when needed, so that ``DEVICES`` is cheap to import (the runner's CLI)
    import torch

__all__ = [
    "DEVICES",
    "DEVICE_HELP",
    "check_device",
    "resolve_device",
    "describe_device",
    "cpu_model",
    "NUMERICS_FIELDS",
    "machine_fingerprint",
]

DEVICES = ("auto", "cpu", "cuda")
DEVICE_HELP = '"auto" → CUDA when available, else CPU; or "cpu" / "cuda"'


def check_device(device: str) -> str:
    """The device's name, normalised (``"auto"``, ``"cpu"`` or ``"cuda"``).

    Raises:
        ValueError: for any other value (``"cuda:1"``, ``"mps"``, …).
        RuntimeError: when ``"cuda"`` is asked for and this torch cannot use CUDA.
    """
    if not isinstance(device, str) or device.strip().lower() not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of {', '.join(map(repr, DEVICES))}")
    name = device.strip().lower()
    if name == "cuda":
        import torch

        if not torch.cuda.is_available():
            built = torch.version.cuda or "no CUDA support"
            raise RuntimeError(
                f"device='cuda' was requested but CUDA is not available (torch {torch.__version__}, built with "
                f"{built}; {torch.cuda.device_count()} CUDA device(s) visible). Use device='auto' or 'cpu'."
            )
    return name


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cpu"``; ``"cuda"`` (the current CUDA device). Raises as
    :func:`check_device`."""
    import torch

    name = check_device(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def describe_device(device: torch.device | str) -> str:
    """A short human-readable name: ``"cpu"``, or ``"cuda (<GPU name>)"`` for a CUDA device."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return device.type
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda ({torch.cuda.get_device_name(index)})"


def cpu_model() -> str:
    """The CPU's model name as ``/proc/cpuinfo`` gives it (e.g. ``"AMD EPYC"``), else what :mod:`platform` knows."""
    import platform

    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


NUMERICS_FIELDS = ("cpu", "torch_cpu_capability", "torch")  # what decides the last bits of a CPU run


def machine_fingerprint() -> dict[str, str]:
    """The CPU model, PyTorch's CPU capability (the vector instructions its kernels use), and the versions of torch,
    NumPy, pandas and Python. The first three (:data:`NUMERICS_FIELDS`) decide the last bits of a CPU run: the quick
    profile's rounded lines and some of its verdicts differ between an AVX-512 Intel Xeon and an AVX2 AMD EPYC."""
    import platform

    import numpy
    import pandas
    import torch

    return {
        "cpu": cpu_model(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "python": platform.python_version(),
    }
