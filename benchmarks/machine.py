"""The machine line every benchmark prints: CPU model, CPUs, torch version, date and load average."""

from __future__ import annotations

import os
import platform
from datetime import date

import torch


def describe_machine() -> str:
    """One line: CPU model, CPUs, torch version, date, load average."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} CPUs, torch {torch.__version__}, {date.today()}, load average {load}"
