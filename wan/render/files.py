"""Files a render writes beside its video: atomic text files, PNG frames, and the clean-up of the
temporary files a killed run left."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from filelock import FileLock, Timeout

from wan.render.errors import RenderError


def write_text_atomic(path: str, text: str) -> None:
    tmp = f"{path}.partial"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def inside(folder: str, name: str) -> str:
    """folder/name, refused when it would land outside `folder` (a name is never a path)."""
    path = os.path.join(folder, name)
    real, root = os.path.realpath(path), os.path.realpath(folder)
    if os.path.dirname(real) != root:
        raise RenderError(f"{name!r} would be written outside the output folder", where=folder,
                          hint="a plan's name is a file name, not a path")  # fmt: skip
    return path


def prepare_folder(out_dir: str) -> None:
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"cannot create the output folder: {exc.strerror}", where=out_dir) from None
    if not os.access(out_dir, os.W_OK):
        raise RenderError("the output folder is not writable", where=out_dir)


@contextmanager
def folder_lock(out_dir: str) -> Iterator[None]:
    """Held while a render writes into `out_dir`: two processes never render into one folder (the
    second would delete the first's temporary files). The OS releases it if the process dies."""
    lock = FileLock(os.path.join(out_dir, ".wan-weave.lock"), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RenderError("another process is rendering into this folder", where=out_dir,
                          hint="wait for it to finish (or stop it), then resume") from None  # fmt: skip
    try:
        yield
    finally:
        lock.release()


def remove_leftovers(out_dir: str) -> None:
    """Half-written temporary files of a run that was killed (never a finished file)."""
    # write_mp4's temporary files are dot files, which glob's '*' never matches: name them.
    patterns = (".*.partial.mp4", "*.ffmeta", "*.partial", "clips/*.partial*", "clips/.*.partial*", "clips/*.ffmeta")
    for pattern in patterns:
        for path in glob.glob(os.path.join(out_dir, pattern)):
            try:
                os.remove(path)
            except OSError:
                pass


def save_pngs(out_dir: str, index: int, frames: list[np.ndarray]) -> None:
    import cv2

    folder = os.path.join(out_dir, "clips", f"clip_{index:03d}")
    os.makedirs(folder, exist_ok=True)
    for k, frame in enumerate(frames):
        path = os.path.join(folder, f"frame_{k:04d}.png")
        tmp = path + ".partial.png"
        if not cv2.imwrite(tmp, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            raise RenderError("cannot write a PNG frame", where=path)
        os.replace(tmp, path)
