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
import zipfile

import numpy as np

from wan.render.errors import RenderError

FRAMES = "clips/clip_{index:03d}.frames.npz"
MAX_CLIPS = 100_000


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
    if name != FRAMES.format(index=entry["index"]):  # never a path the manifest chose: no traversal
        return None
    path = os.path.join(out_dir, name)
    try:
        if os.path.getsize(path) != entry.get("frames_bytes") or _sha256(path) != entry.get("frames_sha256"):
            return None
        with np.load(path, allow_pickle=False) as data:
            frames = data["frames"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if frames.ndim != 4 or frames.dtype != np.uint8 or len(frames) != entry.get("frames"):
        return None
    return list(frames)


def read_manifest(out_dir: str) -> dict | None:
    """manifest.json of an earlier run, checked; None when there is none. A file that is not a
    manifest is a RenderError: resuming from it could reuse the wrong frames."""
    path = os.path.join(out_dir, "manifest.json")
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _damaged(path, f"cannot be read ({str(exc)[:60]})") from None
    if not isinstance(manifest, dict):
        raise _damaged(path, "is not a JSON object")
    clips = manifest.get("clips", [])
    if not isinstance(clips, list) or not all(_entry_ok(e) for e in clips):
        raise _damaged(path, "has a clip entry that is not a finished clip's record")
    if not isinstance(manifest.get("options", {}), dict):
        raise _damaged(path, "has options that are not a JSON object")
    return manifest


def _entry_ok(entry) -> bool:
    if not isinstance(entry, dict):
        return False
    index, frames = entry.get("index"), entry.get("frames")
    return (type(index) is int and 0 <= index < MAX_CLIPS and type(frames) is int and 0 < frames <= 100_000
            and all(type(entry.get(k, 0)) is int for k in ("frames_bytes",)))  # fmt: skip


def _damaged(path: str, why: str) -> RenderError:
    return RenderError(f"manifest.json {why}", where=path,
                       hint="delete it to render every clip again, or restore it")  # fmt: skip


def reusable_clips(out_dir: str, plan_json: str) -> dict[int, dict]:
    """Manifest entries of clips finished by an earlier run of the same plan in `out_dir`."""
    try:
        with open(os.path.join(out_dir, "plan.json"), encoding="utf-8") as fh:
            same_plan = _clips_part(fh.read()) == _clips_part(plan_json)
    except (OSError, UnicodeDecodeError):
        return {}
    manifest = read_manifest(out_dir) if same_plan else None
    if manifest is None:
        return {}
    return {e["index"]: e for e in manifest.get("clips", []) if "frames_sha256" in e}


def _clips_part(text: str):
    """What makes the clips: the plan without its post block (finishing changes no clip, and a
    plan.json written before the block existed has none)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict):
        data.pop("post", None)
    return data
