"""Shared set-up: the kernels that nbval starts to re-run ``tests/reference/*.ipynb`` use the runner's CPU thread
count (:data:`repro.runner.execute.DEFAULT_THREADS`), the one the references were executed with; PyTorch's CPU
results depend on it. torch is imported first, so this test process keeps its own thread count."""

import os

import torch  # noqa: F401 - OpenMP reads its thread count when torch loads, before the lines below

from repro.runner.execute import DEFAULT_THREADS, thread_environment

os.environ.update(thread_environment(DEFAULT_THREADS))
