"""Readings of stored measurements: statistics, tables and descriptions computed from what an experiment measured."""
