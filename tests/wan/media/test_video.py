"""write_mp4 never leaves ffmpeg behind, and never mistakes its producer's error for ffmpeg's."""

from __future__ import annotations

import os

import numpy as np
import pytest

from wan.media.errors import MediaError
from wan.media.video import VideoSpec, write_mp4


def _ffmpeg_children() -> list[int]:
    me, found = os.getpid(), []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if ppid == me and b"ffmpeg" in cmd:
            found.append(int(entry))
    return found


@pytest.mark.parametrize("error", [RuntimeError("the clip failed"), BrokenPipeError("the host is gone"), KeyboardInterrupt()])
def test_a_producer_that_fails_midway_ends_ffmpeg_and_leaves_no_file(tmp_path, error):
    def frames():
        for _ in range(3):
            yield np.zeros((16, 16, 3), np.uint8)
        raise error

    with pytest.raises(type(error)):
        write_mp4(frames(), str(tmp_path / "v.mp4"), VideoSpec(16, 16, 10), expected_frames=10)
    assert _ffmpeg_children() == [] and list(tmp_path.iterdir()) == []


def test_a_bad_frame_is_a_media_error_and_ends_ffmpeg(tmp_path):
    frames = [np.zeros((16, 16, 3), np.uint8), np.zeros((8, 8, 3), np.uint8)]
    with pytest.raises(MediaError, match="frame 1"):
        write_mp4(iter(frames), str(tmp_path / "v.mp4"), VideoSpec(16, 16, 10))
    assert _ffmpeg_children() == []
