"""The monocular depth model of the 3D camera guide: find it, load it, and turn its prediction into
Deforum's depth for the 3D warp.

Where: a transformers depth-estimation folder (config.json with a `model_type` transformers'
AutoModelForDepthEstimation knows, or an architecture named `...ForDepthEstimation`) under the
models folder (`models_dir(...)`, the same as the WAN models'): `<models>/depth/<name>/`
(recommended) or `<models>/<name>/`. The recommended model is Depth-Anything-V2-Small-hf
(`depth-anything/Depth-Anything-V2-Small-hf`, Apache-2.0, 25M parameters):
`<models>/depth/Depth-Anything-V2-Small-hf/`. Folder names do not matter; configs do.

What Deforum does (sd-forge-deforum, Depth-Anything-V2): `DepthAnything.predict` runs
transformers' `pipeline("depth-estimation")` and takes its `"depth"` image, the model's relative
inverse depth (disparity: bright = near) scaled to 0..255; `transform_image_3d_new` then looks up
its depth parameters, (depth, factor, offset) = (1, 1, 1) for depth-anything (the same as AdaBins,
LeReS and Zoe), normalises the map to [0, 1] over the image (`prepare_depth_tensor`, which also
equalises its histogram) and computes z = normalised * 1 + 1, a z in [1, 2] per pixel that
pytorch3d's FoVPerspectiveCameras project before and after the camera move. A missing, constant or
non-finite map is replaced by a flat z = 1.

How we orient it: near = 1, far = 2. The model's disparity is normalised to [0, 1] over the image
(min-max, linear; `equalize=True` adds Deforum's histogram equalisation) and z = 2 - normalised,
so the nearest pixel gets z = 1 and the farthest z = 2 (pytorch3d's camera looks along +z: a
smaller z is nearer to it, and moves more under a camera translation). Deforum's depth-anything
path adds the disparity itself (near = 2); we deliberately take the physical orientation. Models
whose output is a depth rather than a disparity (metric ZoeDepth, GLPN, metric Depth Anything
...) are normalised the other way round (z = 1 + normalised depth), so near is 1 for every model.
A constant or non-finite map gives all 1.0, as in Deforum.

Finding is pure (reads JSON and safetensors headers); torch and transformers load only in
DepthEstimator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from wan.models.checkpoints import read_header
from wan.models.discovery import ModelNotFoundError, read_json
from wan.models.errors import ModelError

DEPTH_REPO = "depth-anything/Depth-Anything-V2-Small-hf"
DEPTH_NAME = "Depth-Anything-V2-Small-hf"
DEPTH_SUBDIR = "depth"  # <models>/depth/<name>/

DISPARITY = "disparity"  # bigger = nearer (relative inverse depth)
DEPTH = "depth"  # bigger = farther (metric depth)
# transformers' AutoModelForDepthEstimation model types (5.x) and what their `predicted_depth` is.
DEPTH_TYPES = {
    "depth_anything": DISPARITY,  # relative; "metric" variants (depth_estimation_type) are DEPTH
    "dpt": DISPARITY,  # DPT / MiDaS: relative inverse depth
    "depth_pro": DISPARITY,  # canonical inverse depth (post-processing inverts it)
    "glpn": DEPTH,
    "zoedepth": DEPTH,
    "prompt_depth_anything": DEPTH,
    "chmv2": DEPTH,
    "tipsv2_dpt": DEPTH,
}
WEIGHT_SUFFIXES = (".safetensors", ".bin")


class DepthModelNotFoundError(ModelNotFoundError):
    """No usable depth-estimation model where one was asked for."""


@dataclass(frozen=True)
class DepthModel:
    name: str  # the folder's name
    path: str
    model_type: str
    orientation: str  # DISPARITY or DEPTH
    problem: str | None = None  # why it cannot load (an interrupted download)


def orientation_of(config: dict) -> str:
    """DISPARITY when the model's output grows toward the camera, DEPTH when it grows away."""
    model_type = str(config.get("model_type", ""))
    if model_type == "depth_anything" and config.get("depth_estimation_type") == "metric":
        return DEPTH
    return DEPTH_TYPES.get(model_type, DEPTH)


def _problem(folder: str) -> str | None:
    files = os.listdir(folder)
    missing = []
    if "preprocessor_config.json" not in files:
        missing.append("preprocessor_config.json")
    weights = [f for f in files if f.endswith(WEIGHT_SUFFIXES)]
    if not weights:
        missing.append("weights (model.safetensors)")
    for name in weights:
        if name.endswith(".safetensors"):
            try:
                read_header(os.path.join(folder, name))
            except (OSError, ValueError) as exc:
                missing.append(f"{name}: {exc}")
    return f"incomplete (an interrupted download?): {', '.join(missing)}" if missing else None


def classify_depth(folder: str) -> DepthModel | None:
    """The depth model in `folder`, or None if it holds none."""
    config = read_json(os.path.join(folder, "config.json"))
    if not config:
        return None
    model_type = str(config.get("model_type", ""))
    architectures = [str(a) for a in config.get("architectures") or []]
    if model_type not in DEPTH_TYPES and not any(a.endswith("ForDepthEstimation") for a in architectures):
        return None
    name = os.path.basename(os.path.normpath(folder))
    return DepthModel(name, os.path.abspath(folder), model_type, orientation_of(config), _problem(folder))


def discover_depth_models(root: str) -> tuple[DepthModel, ...]:
    """Every depth model in `<root>/depth/*/` and then `<root>/*/`, by folder name."""
    found = []
    for parent in (os.path.join(root, DEPTH_SUBDIR), root):
        if not os.path.isdir(parent):
            continue
        for entry in sorted(os.scandir(parent), key=lambda e: e.name):
            model = classify_depth(entry.path) if entry.is_dir() else None
            if model:
                found.append(model)
    return tuple(found)


def _hint(root: str) -> str:
    target = os.path.join(root, DEPTH_SUBDIR, DEPTH_NAME)
    return (
        f"download {DEPTH_REPO} into {target}, e.g. `hf download {DEPTH_REPO} --local-dir {target}` "
        f"(huggingface_hub; older versions: `huggingface-cli download`), or pass --models DIR"
    )


def find_depth_model(root: str, name: str | None = None) -> str:
    """The folder of the depth model to use: `name` (a folder path, or a folder name under
    `<root>/depth/` or `<root>/`) when given, else the first complete one under `root`, a Depth
    Anything model first. Raises DepthModelNotFoundError, saying where to put Depth-Anything-V2-Small-hf."""
    if name:
        for folder in (name, os.path.join(root, DEPTH_SUBDIR, name), os.path.join(root, name)):
            if os.path.isdir(folder):
                model = classify_depth(folder)
                if model is None:
                    raise DepthModelNotFoundError(
                        "not a depth-estimation model folder (config.json with a depth model_type such as "
                        "depth_anything)",
                        where=folder,
                        hint=_hint(root),
                    )
                if model.problem:
                    raise DepthModelNotFoundError(model.problem, where=folder, hint=_hint(root))
                return model.path
        have = ", ".join(m.name for m in discover_depth_models(root)) if os.path.isdir(root) else ""
        raise DepthModelNotFoundError(
            f"no depth model {name!r} under {root} (found: {have or 'nothing'})", hint=_hint(root)
        )
    found = discover_depth_models(root) if os.path.isdir(root) else ()
    usable = sorted((m for m in found if not m.problem), key=lambda m: m.model_type != "depth_anything")
    if usable:
        return usable[0].path
    if found:
        raise DepthModelNotFoundError(f"{found[0].path}: {found[0].problem}", where=root, hint=_hint(root))
    raise DepthModelNotFoundError(f"no depth model under {root} (the 3D camera guide needs one)", hint=_hint(root))


def _equalize(values: np.ndarray) -> np.ndarray:
    """Deforum's `depth_equalization`: map [0, 1] values through their 1024-bin histogram's CDF."""
    hist, edges = np.histogram(values, bins=1024, range=(0.0, 1.0))
    cdf = hist.cumsum() / float(hist.sum())
    return np.interp(values, edges[:-1], cdf)


def deforum_z(prediction: np.ndarray, orientation: str = DISPARITY, equalize: bool = False) -> np.ndarray:
    """Deforum's z in [1, 2] (near = 1, far = 2) from a model's prediction: normalised to [0, 1]
    over the map (optionally histogram-equalised, as Deforum does), then z = 2 - disparity or
    z = 1 + depth. A constant or non-finite map gives all 1.0 (Deforum's flat depth)."""
    if orientation not in (DISPARITY, DEPTH):
        raise ValueError(f"orientation must be {DISPARITY!r} or {DEPTH!r}, not {orientation!r}")
    values = np.asarray(prediction, dtype=np.float64)
    if values.size == 0 or not np.isfinite(values).all():
        return np.ones(values.shape, dtype=np.float32)
    lo, hi = float(values.min()), float(values.max())
    if hi - lo <= 1e-6 * max(abs(lo), abs(hi)):
        return np.ones(values.shape, dtype=np.float32)
    normalised = (values - lo) / (hi - lo)
    if equalize:
        normalised = _equalize(normalised)
    z = 2.0 - normalised if orientation == DISPARITY else 1.0 + normalised
    return np.clip(z, 1.0, 2.0).astype(np.float32)


class DepthEstimator:
    """A transformers depth-estimation model (AutoImageProcessor + AutoModelForDepthEstimation, local
    files only), in float32 on `device` (default: the CPU). `estimate(image)` gives Deforum's z."""

    def __init__(self, folder: str, device: str | None = None) -> None:
        model = classify_depth(folder) if os.path.isdir(folder) else None
        if model is None:
            raise DepthModelNotFoundError(
                "not a depth-estimation model folder (config.json with a depth model_type such as depth_anything)",
                where=folder,
                hint=f"pass the folder of a depth model such as {DEPTH_REPO}",
            )
        if model.problem:
            raise DepthModelNotFoundError(model.problem, where=folder, hint=f"download {DEPTH_REPO} again")
        try:
            import torch
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation
        except ImportError as exc:
            raise ModelError(
                f"the depth model needs torch and transformers ({exc})", hint="pip install -r requirements-worker.txt"
            ) from None
        self.folder = model.path
        self.model_type = model.model_type
        self.orientation = model.orientation
        self.device = torch.device(device or "cpu")
        try:
            self.processor = AutoImageProcessor.from_pretrained(model.path, local_files_only=True)
            network = AutoModelForDepthEstimation.from_pretrained(model.path, local_files_only=True)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelError(
                f"cannot load the depth model: {exc}", where=model.path, hint=f"download {DEPTH_REPO} again"
            ) from None
        self.model = network.to(device=self.device, dtype=torch.float32).eval()

    def predict(self, image: np.ndarray) -> np.ndarray:
        """The model's raw prediction (float32 HxW, resized bicubically to the image's size)."""
        import torch
        from PIL import Image

        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
        height, width = image.shape[:2]
        inputs = self.processor(images=Image.fromarray(image), return_tensors="pt")
        pixels = inputs["pixel_values"].to(device=self.device, dtype=torch.float32)
        with torch.inference_mode():
            predicted = self.model(pixel_values=pixels).predicted_depth
            resized = torch.nn.functional.interpolate(
                predicted.reshape(1, 1, *predicted.shape[-2:]).float(),
                size=(height, width),
                mode="bicubic",
                align_corners=False,
            )
        return resized[0, 0].cpu().numpy().astype(np.float32)

    def estimate(self, image: np.ndarray, equalize: bool = False) -> np.ndarray:
        """Deforum's depth for its 3D warp: float32 HxW z in [1, 2], near = 1, far = 2 (see the module)."""
        return deforum_z(self.predict(image), self.orientation, equalize)
