"""Stored measurements: what an experiment measured, kept apart from how it is judged and drawn.

- :mod:`~repro.measurements.codec` — a measurement (dataclasses, arrays, tensors, data frames, …) as JSON plus
  named arrays, and back, without pickle;
- :mod:`~repro.measurements.store` — one checked file per measurement: written atomically with a SHA-256, read
  back only when whole, of this format and under the key asked for (:class:`MeasurementError` otherwise);
- :mod:`~repro.measurements.keys` — keys that cover the settings, torch version, thread count and the source of the
  code that measures, and nothing that analyses or presents.

This file imports nothing from the package, so that importing the store does not widen a measurement's key.
"""
