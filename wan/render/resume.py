"""Crash-safe resume: every finished clip's frames are kept losslessly (compressed .npz, written
atomically) with their size and SHA-256 in the manifest. Resuming the same plan in the same folder
reuses each clip whose file is intact and regenerates the rest; chained clips are conditioned on
the reused frames themselves, so a resumed render equals an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os

import numpy as np

FRAMES = "clips/clip_{index:03d}.frames.npz"


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_frames(out_dir: str, index: int, frames: list[np.ndarray]) -> dict:
    """Write the clip's frames atomically; returns the manifest fields that identify the file."""
    name = FRAMES.format(index=index)
    path = os.path.join(out_dir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, frames=np.stack(frames))
    tmp = f"{path}.partial"
    with open(tmp, "wb") as fh:
        fh.write(buffer.getvalue())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return {"frames_file": name, "frames_bytes": os.path.getsize(path), "frames_sha256": _sha256(path)}


def load_frames(out_dir: str, entry: dict) -> list[np.ndarray] | None:
    """The clip's frames if its file is there, of the recorded size and hash; else None."""
    name = entry.get("frames_file")
    if not name:
        return None
    path = os.path.join(out_dir, name)
    try:
        if os.path.getsize(path) != entry.get("frames_bytes") or _sha256(path) != entry.get("frames_sha256"):
            return None
        with np.load(path) as data:
            frames = data["frames"]
    except (OSError, ValueError, KeyError):
        return None
    if frames.ndim != 4 or len(frames) != entry.get("frames"):
        return None
    return list(frames)


def reusable_clips(out_dir: str, plan_json: str) -> dict[int, dict]:
    """Manifest entries of clips finished by an earlier run of the same plan in `out_dir`."""
    try:
        with open(os.path.join(out_dir, "plan.json"), encoding="utf-8") as fh:
            same_plan = fh.read() == plan_json
        with open(os.path.join(out_dir, "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        return {}
    if not same_plan:
        return {}
    return {int(e["index"]): e for e in manifest.get("clips", []) if isinstance(e, dict) and "frames_sha256" in e}
