from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def write_settings(tmp_path):
    """Write a settings dict (or raw text) to a file and return its path."""

    def write(data, name: str = "settings.txt") -> Path:
        path = tmp_path / name
        if isinstance(data, (bytes, str)):
            path.write_bytes(data if isinstance(data, bytes) else data.encode())
        else:
            path.write_text(json.dumps(data))
        return path

    return write
