"""Recording what a method returns, for tests that check what reached a model: the production code
keeps no record of its inputs (a render's frames would pile up in memory)."""

from __future__ import annotations


def spy(monkeypatch, cls, name: str) -> list:
    """Wrap `cls.name`; every call appends (args without self, kwargs, result) to the returned list."""
    real = getattr(cls, name)
    seen: list = []

    def recording(self, *args, **kwargs):
        result = real(self, *args, **kwargs)
        seen.append((args, kwargs, result))
        return result

    monkeypatch.setattr(cls, name, recording)
    return seen
