"""The machine line every benchmark prints: CPU model, CPUs, torch version, date and load average."""

from __future__ import annotations

import os
from datetime import date

import torch

from repro.devices import cpu_model


def describe_machine() -> str:
    """One line: CPU model, CPUs, torch version, date, load average."""
    cpu = cpu_model()
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} CPUs, torch {torch.__version__}, {date.today()}, load average {load}"
