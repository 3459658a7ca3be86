"""Wan Weave: Deforum animations to WAN videos. `python -m wan --help` lists the commands."""

__version__ = "0.1.0"
