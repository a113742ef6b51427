"""Shared set-up for every test.

- The kernels that nbval starts to re-run ``tests/reference/*.ipynb`` use the runner's CPU thread count
  (:data:`repro.runner.execute.DEFAULT_THREADS`), the one the references were executed with; PyTorch's CPU results
  depend on it. torch is imported first, so this test process keeps its own thread count.
- Figures draw with matplotlib's Agg backend (no screen).
- ``one_thread``: a fixture for modules of tiny problems (``pytestmark = pytest.mark.usefixtures("one_thread")``).
- ``slow``: tests that train networks, run chapters, a cluster or a browser, and every reference notebook; ``pytest
  -m "not slow"`` gives the fast loop, ``make test`` runs everything.
"""

import os
from pathlib import Path

import matplotlib
import pytest
import torch

from repro.runner.execute import DEFAULT_THREADS, thread_environment

matplotlib.use("Agg")
os.environ.update(thread_environment(DEFAULT_THREADS))

REFERENCES = Path(__file__).resolve().parent / "reference"


def pytest_report_header(config):
    """Which machine made the reference notebooks, beside this one: their checked lines are exact, and the last bits
    of a CPU run (so a rounded line, or a verdict at the quick profile's edge) depend on the CPU's vector unit."""
    import json

    from repro.devices import NUMERICS_FIELDS, machine_fingerprint

    made = {
        json.dumps(json.loads(p.read_text()).get("metadata", {}).get("repro", {}).get("made_on"), sort_keys=True)
        for p in sorted(REFERENCES.glob("*.ipynb"))
    }
    here = json.dumps({k: machine_fingerprint()[k] for k in NUMERICS_FIELDS}, sort_keys=True)
    lines = [f"reference notebooks made on: {', '.join(sorted(made))}", f"this machine: {here}"]
    if made != {here}:
        lines.append("the reference notebooks were made on another kind of machine: checked lines may differ here")
    return lines


def pytest_collection_modifyitems(config, items):
    """Every reference notebook re-executed by nbval is slow (minutes each)."""
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(REFERENCES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="module")
def one_thread():
    """Tiny problems: one thread avoids waiting on a busy second core."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
