"""Frames -> MP4 (H.264, yuv420p) through the ffmpeg binary that imageio-ffmpeg ships.

The file is written under a temporary name and renamed when complete, so a crash never leaves a
half-written video under the final name. The settings and the plan travel inside the MP4 as
metadata tags, so a video always says how it was made.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from wan.media.errors import MediaError

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


@dataclass(frozen=True)
class VideoSpec:
    width: int
    height: int
    fps: float
    crf: int = 18
    preset: str = "medium"


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MediaError("imageio-ffmpeg is not installed", hint="pip install imageio-ffmpeg") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def _escape_ffmetadata(value: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


def soundtrack_from_settings(settings_get, settings_dir: str) -> tuple[str | None, str | None]:
    """(audio path, warning) for Deforum's add_soundtrack / soundtrack_path."""
    mode = settings_get("add_soundtrack", "None")
    path = settings_get("soundtrack_path", "") or ""
    if mode in (None, "None", "", False):
        return None, None
    if mode == "Init Video":
        return (
            None,
            "add_soundtrack 'Init Video' needs Deforum's video input, which Wan Weave does not use: no soundtrack",
        )
    if mode != "File":
        return None, f"add_soundtrack {mode!r} is not known: no soundtrack"
    if not isinstance(path, str) or not path.strip():
        raise MediaError(
            "add_soundtrack is 'File' but soundtrack_path is empty", hint="set soundtrack_path to an audio file"
        )
    path = path.strip()
    if re.match(r"^[a-z][a-z0-9+.-]*://", path, re.I):
        raise MediaError(
            f"soundtrack_path is a URL ({path}); Wan Weave never downloads at render time",
            hint="download the audio and set soundtrack_path to the local file",
        )
    full = path if os.path.isabs(path) else os.path.join(settings_dir, path)
    if not os.path.isfile(full):
        raise MediaError(
            f"soundtrack file not found: {full}", hint="fix soundtrack_path or set add_soundtrack to None"
        )
    return full, None


def write_mp4(
    frames: Iterable[np.ndarray],
    path: str,
    spec: VideoSpec,
    *,
    expected_frames: int | None = None,
    audio: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Encode RGB uint8 frames (H, W, 3) to `path`; returns the path. Atomic: temp name, then rename."""
    if spec.preset not in PRESETS:
        raise MediaError(f"unknown x264 preset {spec.preset!r}", hint=f"use one of {', '.join(PRESETS)}")
    if not 0 <= spec.crf <= 51:
        raise MediaError(f"crf must be 0..51, got {spec.crf}")
    if spec.width % 2 or spec.height % 2:
        raise MediaError(f"{spec.width}x{spec.height}: yuv420p needs even sides")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise MediaError(f"cannot create the output folder: {exc.strerror}", where=folder) from None
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".partial.mp4", dir=folder)
    os.close(fd)
    meta_file = None
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{spec.width}x{spec.height}", "-r", repr(spec.fps), "-i", "-"]
    inputs = 1
    if audio:
        cmd += ["-i", audio]
        audio_index = inputs
        inputs += 1
    if metadata:
        fd, meta_file = tempfile.mkstemp(suffix=".ffmeta", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(";FFMETADATA1\n")
            for key, value in metadata.items():
                fh.write(f"{key}={_escape_ffmetadata(value)}\n")
        cmd += ["-f", "ffmetadata", "-i", meta_file, "-map_metadata", str(inputs)]
        inputs += 1
    cmd += ["-map", "0:v"]
    if audio:
        cmd += ["-map", f"{audio_index}:a", "-c:a", "aac", "-b:a", "192k"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", str(spec.crf), "-preset", spec.preset]
    cmd += ["-movflags", "+faststart+use_metadata_tags"]
    if expected_frames is not None:
        cmd += ["-frames:v", str(expected_frames), "-t", repr(expected_frames / spec.fps)]
    cmd += ["-f", "mp4", tmp]
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            count = _feed(proc, frames, spec)
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            code = proc.wait()
        except BaseException:
            # The frames' producer failed or was cancelled: ffmpeg must not outlive the render.
            proc.kill()
            proc.wait()
            raise
        finally:
            for pipe in (proc.stdin, proc.stderr):
                if pipe is not None and not pipe.closed:
                    try:
                        pipe.close()
                    except BrokenPipeError:
                        pass
        if code != 0:
            raise MediaError(f"ffmpeg failed: {err.strip().splitlines()[-1] if err.strip() else 'no message'}")
        if expected_frames is not None and count != expected_frames:
            raise MediaError(f"got {count} frames, expected {expected_frames}")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the video from other users
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        if meta_file and os.path.exists(meta_file):
            os.unlink(meta_file)
    return path


def _feed(proc: subprocess.Popen, frames: Iterable[np.ndarray], spec: VideoSpec) -> int:
    """Write the frames to ffmpeg; returns how many it took. Only ffmpeg's own broken pipe means
    ffmpeg stopped (its exit code then says why): an error raised while producing a frame (a
    cancel, a failed clip, a lost parent) is never mistaken for it."""
    count = 0
    for frame in frames:
        if frame.shape != (spec.height, spec.width, 3) or frame.dtype != np.uint8:
            raise MediaError(
                f"frame {count} is {frame.shape} {frame.dtype}, expected ({spec.height}, {spec.width}, 3) uint8"
            )
        try:
            proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError:
            return count
        count += 1
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    return count


@dataclass(frozen=True)
class VideoInfo:
    frames: int
    seconds: float
    fps: float
    width: int
    height: int
    has_audio: bool
    metadata: dict[str, str]


def probe(path: str) -> VideoInfo:
    """Read back frame count, fps, size, audio presence and metadata (ffmpeg only; no ffprobe)."""
    import imageio_ffmpeg

    frames, seconds = imageio_ffmpeg.count_frames_and_secs(path)
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", path], capture_output=True, text=True)
    info = result.stderr
    video = re.search(r"Video: .*?, (\d+)x(\d+)[, ].*?([\d.]+) fps", info)
    if not video:
        raise MediaError(f"no video stream in {path}")
    meta = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", path, "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
    ).stdout
    tags: dict[str, str] = {}
    key, buf = None, []
    for line in meta.splitlines()[1:]:
        if key is not None and buf and buf[-1].endswith("\\"):
            buf[-1] = buf[-1][:-1] + "\n"
            buf.append(line)
            continue
        if key is not None:
            tags[key] = "".join(buf)
        key, _, value = line.partition("=")
        buf = [value]
    if key is not None:
        tags[key] = "".join(buf)
    tags = {k: re.sub(r"\\([=;#\\])", r"\1", v) for k, v in tags.items()}
    return VideoInfo(
        frames=frames,
        seconds=seconds,
        fps=float(video.group(3)),
        width=int(video.group(1)),
        height=int(video.group(2)),
        has_audio="Audio:" in info,
        metadata=tags,
    )


def metadata_for(plan_json: str, settings_json: str) -> dict[str, str]:
    return {
        "comment": "made with Wan Weave",
        "wan_weave_plan": json.dumps(json.loads(plan_json), separators=(",", ":"), ensure_ascii=False),
        "wan_weave_settings": settings_json,
    }


def read_frames(path: str) -> tuple[list[np.ndarray], float]:
    """Every frame of a video as RGB uint8 arrays, and its fps (imageio-ffmpeg's reader)."""
    fps, frames = iter_frames(path)
    frames = list(frames)
    if not frames:
        raise MediaError("the video has no frames", where=path)
    return frames, fps


def iter_frames(path: str) -> tuple[float, Iterator[np.ndarray]]:
    """(fps, the frames one at a time): a long film never has to fit in memory."""
    import imageio_ffmpeg

    if not os.path.isfile(path):
        raise MediaError("video not found", where=path)
    try:
        reader = imageio_ffmpeg.read_frames(path)
        meta = next(reader)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise MediaError(f"cannot read the video: {exc}", where=path) from None
    w, h = meta["size"]

    def frames() -> Iterator[np.ndarray]:
        try:
            for buf in reader:
                yield np.frombuffer(buf, np.uint8).reshape(h, w, 3).copy()
        except (RuntimeError, OSError) as exc:
            raise MediaError(f"cannot read the video: {exc}", where=path) from None

    return float(meta["fps"]), frames()


def concat_mp4(parts: list[str], path: str, seconds: float, audio_from: str | None = None) -> str:
    """Join H.264 parts of one size and rate into `path` without re-encoding, with the audio of
    `audio_from` when it has some, cut at `seconds` (the video's length: a shorter soundtrack
    must not cut the picture, as -shortest would). Atomic like write_mp4."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, listing = tempfile.mkstemp(suffix=".txt", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for part in parts:  # the concat demuxer's quoting: ' becomes '\''
            escaped = os.path.abspath(part).replace("'", "'\\''")
            fh.write(f"file '{escaped}'\n")
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".partial.mp4", dir=folder)
    os.close(fd)
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", listing]
    if audio_from:
        cmd += ["-i", audio_from, "-map", "0:v", "-map", "1:a?", "-c:a", "aac", "-b:a", "192k"]
    cmd += ["-c:v", "copy", "-t", repr(seconds), "-movflags", "+faststart", "-f", "mp4", tmp]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise MediaError(f"ffmpeg could not join the parts: {result.stderr.strip()[-300:]}", where=path)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as write_mp4: mkstemp's 0600 would hide the video from other users
        os.replace(tmp, path)
    finally:
        for leftover in (listing, tmp):
            if os.path.exists(leftover):
                os.remove(leftover)
    return path
