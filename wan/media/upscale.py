"""ESRGAN-family upscaling of finished frames through spandrel (imperative shell, worker only).

spandrel recognises ESRGAN, RealESRGAN, SwinIR, HAT, ... `.pth` / `.safetensors` files by their
keys, so any upscaler a Forge or A1111 user already has works. Only the API shared by spandrel 0.3.4
(what both WebUIs pin, reused by the worker) and 0.4.x is used: `ModelLoader(device).load_from_file`,
`ImageModelDescriptor`, `.scale`, and calling the descriptor on a (1, 3, H, W) tensor in [0, 1].

Frames go through in tiles so a 4x upscale of a 720p frame fits beside WAN in a small GPU. Each tile
is run with OVERLAP pixels of real neighbouring input on every side and only its centre is kept
(crop, no blending): every kept output pixel then saw the same input as in a whole-frame pass as
far as the model's receptive field stays within OVERLAP pixels, so the result equals the untiled
one there (seamless by construction; the tiny ESRGAN's field is about 19 px). Deep models have a
larger theoretical field, but the weight of far pixels fades quickly, which is why a few dozen
pixels of context is the usual practice; not yet measured here with real weights.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from wan.media.errors import UpscalerError

__all__ = ["OVERLAP", "SUFFIXES", "Upscaler", "UpscalerError", "find_upscaler", "tile_for_profile"]

SUFFIXES = (".pth", ".safetensors")
OVERLAP = 32
# Input pixels per tile (before the context) for each memory profile of wan/plan/profiles.py: an
# x4 ESRGAN keeps a few 64-channel maps at the output size, about 1 GB in fp16 for a 512 px tile
# (x16 pixels), so the profiles that keep WAN's weights off the GPU get smaller tiles. Tile size
# changes only speed, never the image.
PROFILE_TILES = {"full": 512, "balanced": 384, "low": 256, "minimal": 128}
HINT_PUT = "put an ESRGAN-family upscaler there (a .pth or .safetensors, e.g. RealESRGAN_x4plus.pth)"


def tile_for_profile(profile: str) -> int:
    """The tile size for a memory profile (`auto` is resolved per GPU elsewhere: the middle one)."""
    if profile == "auto":
        return PROFILE_TILES["low"]
    try:
        return PROFILE_TILES[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; expected auto or one of {', '.join(PROFILE_TILES)}") from None


def find_upscaler(models_dir: str, name: str | None) -> str:
    """The upscaler file to use: `name` (a file name or stem in `<models_dir>/upscale`, or a path),
    or the only file in that folder."""
    folder = os.path.join(models_dir, "upscale")
    if name and (os.path.isabs(name) or os.path.dirname(name)):
        if os.path.isfile(name):
            return name
        raise UpscalerError("upscaler file not found", where=name, hint=f"give a file name from {folder} or a path")
    found = sorted(f for f in os.listdir(folder) if f.lower().endswith(SUFFIXES)) if os.path.isdir(folder) else []
    listing = ", ".join(found) if found else "none"
    if name:
        stem = {os.path.splitext(f)[0]: f for f in found}
        pick = name if name in found else stem.get(name)
        if pick:
            return os.path.join(folder, pick)
        raise UpscalerError(f"no upscaler named {name!r} (there: {listing})", where=folder, hint=HINT_PUT)
    if len(found) == 1:
        return os.path.join(folder, found[0])
    if not found:
        missing = "" if os.path.isdir(folder) else " (the folder does not exist)"
        raise UpscalerError(f"no upscaler model{missing}", where=folder, hint=HINT_PUT)
    raise UpscalerError(f"several upscalers, name one: {listing}", where=folder)


def import_spandrel():
    """spandrel, or a typed error: it imports torchvision at import time (for architectures we never
    use), and a torchvision that does not match torch fails there."""
    try:
        import spandrel
    except (ImportError, RuntimeError) as e:
        raise UpscalerError(
            f"spandrel cannot be imported ({type(e).__name__}: {e})",
            hint="install spandrel>=0.3.4 with a torchvision built for this torch (the WebUIs ship both)",
        ) from e
    return spandrel


class Upscaler:
    """One upscaler model loaded on `device`; `upscale` maps an RGB uint8 frame to a `scale`x one."""

    def __init__(self, path: str, device: str = "cpu", tile: int = 256, dtype=None, overlap: int = OVERLAP) -> None:
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        if not os.path.isfile(path):
            raise UpscalerError("upscaler file not found", where=path, hint=HINT_PUT)
        spandrel = import_spandrel()
        try:
            descriptor = spandrel.ModelLoader(device=device).load_from_file(path)
        except spandrel.UnsupportedModelError as e:
            raise UpscalerError(
                "not a model spandrel recognises (no known architecture matches its keys)", where=path, hint=HINT_PUT
            ) from e
        except Exception as e:  # a corrupt or foreign file fails anywhere from unpickling to shapes
            raise UpscalerError(f"cannot be read as an upscaler ({type(e).__name__}: {e})", where=path) from e
        if not isinstance(descriptor, spandrel.ImageModelDescriptor):
            kind = type(descriptor).__name__.replace("ModelDescriptor", "").lower() or "other"
            raise UpscalerError(f"a {kind} model ({descriptor.architecture.id}), not an upscaler", where=path)
        if descriptor.input_channels != 3 or descriptor.output_channels != 3:
            raise UpscalerError(
                f"takes {descriptor.input_channels} and gives {descriptor.output_channels} channels; "
                "only RGB models upscale frames",
                where=path,
            )
        self.device = torch.device(device)
        self.dtype = dtype or _default_dtype(descriptor, self.device)
        try:
            descriptor.to(self.dtype)
        except Exception as e:
            raise UpscalerError(f"cannot run in {self.dtype} ({e})", where=path, hint="use torch.float32") from e
        descriptor.eval()
        self.descriptor = descriptor
        self.scale: int = int(descriptor.scale)
        # Tile edges must fall on the model's size grid (RealESRGAN x2 pixel-unshuffles by 4), so the
        # padding spandrel adds happens only at the frame's own edge, as in a whole-frame pass.
        grid = max(1, descriptor.size_requirements.multiple_of)
        self.tile = _round_up(max(0, tile), grid)
        self.overlap = _round_up(max(0, overlap), grid)

    def upscale(self, frame: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (H*scale, W*scale, 3) uint8."""
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) uint8 frame, got {frame.shape} {frame.dtype}")
        h, w, _ = frame.shape
        s = self.scale
        out = np.empty((h * s, w * s, 3), np.uint8)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(frame)).to(self.device)
            x = x.permute(2, 0, 1).unsqueeze(0).to(self.dtype) / 255.0
            for y0, y1, wy0, wy1 in _spans(h, self.tile, self.overlap):
                for x0, x1, wx0, wx1 in _spans(w, self.tile, self.overlap):
                    y = self.descriptor(x[:, :, wy0:wy1, wx0:wx1])
                    y = y[:, :, (y0 - wy0) * s : (y1 - wy0) * s, (x0 - wx0) * s : (x1 - wx0) * s]
                    y = (y[0].float() * 255.0).round_().clamp_(0, 255).to(torch.uint8)
                    out[y0 * s : y1 * s, x0 * s : x1 * s] = y.permute(1, 2, 0).cpu().numpy()
        return out


def _default_dtype(descriptor, device: torch.device) -> torch.dtype:
    # Half precision halves the tile memory on a GPU; CPUs run fp16 convolutions slowly or not at all.
    if device.type == "cuda" and descriptor.supports_half:
        return torch.float16
    return torch.float32


def _round_up(value: int, grid: int) -> int:
    return -(-value // grid) * grid


def _spans(size: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(kept start, kept end, window start, window end) along one axis; windows stop at the frame's
    edges, where a whole-frame pass sees the same zero padding."""
    if tile <= 0 or size <= tile:
        return [(0, size, 0, size)]
    return [(a, min(a + tile, size), max(0, a - overlap), min(size, a + tile + overlap)) for a in range(0, size, tile)]
