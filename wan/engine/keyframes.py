"""Keyframe images from prompts with a diffusers text-to-image pipeline the user has: Wan's own T2V
model generating one frame (what every Wan Weave models folder holds), or an SD/SDXL/Flux folder
under <models>/image/ through diffusers' AutoPipeline classes. A keyframe after the first can start
from the previous one (image-to-image) so characters and places stay the same across the film."""

from __future__ import annotations

import os

import numpy as np

from wan.engine.errors import EngineError
from wan.plan.keyframes import Keyframe

IMAGE_MODELS = "image"  # <models>/image/<diffusers folder>: SD, SDXL, Flux...


def image_model_folders(root: str) -> list[str]:
    base = os.path.join(root, IMAGE_MODELS)
    if not os.path.isdir(base):
        return []
    return sorted(os.path.join(base, n) for n in os.listdir(base)
                  if os.path.isfile(os.path.join(base, n, "model_index.json")))  # fmt: skip


class KeyframePainter:
    """`paint(keyframe, previous, keep)`: the keyframe's image; with `previous` and keep > 0, made
    from it (keep is Deforum's strength: the share of the previous image that stays)."""

    def __init__(self, root: str, width: int, height: int, steps: int, guidance: float, image_model: str | None = None,
                 weights: str | None = None, log=print) -> None:  # fmt: skip
        import torch

        from wan.models.loading import SHARED

        # A worker keeps the last render's pipeline loaded; two models side by side would not fit a
        # consumer card. The next render loads its own again.
        SHARED.clear()
        self.width, self.height, self.steps, self.guidance, self.log = width, height, steps, guidance, log
        self._placed = None
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        if image_model is not None:
            self._load_image_model(root, image_model, dtype)
        else:
            self._load_wan(root, weights, dtype)

    def _load_wan(self, root: str, weights: str | None, dtype) -> None:
        import diffusers

        from wan.models.discovery import find_model
        from wan.models.loading import load_pipeline

        found = find_model(root, "wan2.1-t2v-1.3b", weights)
        self.log(f"keyframes: {found.name} from {found.source}, one frame each")
        self.t2i = load_pipeline(found, dtype, self.log)
        self.i2i = diffusers.WanVideoToVideoPipeline.from_pipe(self.t2i, torch_dtype=dtype)
        self.kind, self.name = "wan", found.name

    def _load_image_model(self, root: str, name: str, dtype) -> None:
        import diffusers

        folders = image_model_folders(root)
        chosen = name if os.path.isdir(name) else next((f for f in folders if os.path.basename(f) == name), None)
        if chosen is None:
            have = ", ".join(os.path.basename(f) for f in folders) or "nothing"
            raise EngineError(f"no image model {name!r} under {os.path.join(root, IMAGE_MODELS)} (found: {have})",
                              hint="put a diffusers text-to-image folder (SD, SDXL, Flux) there, or leave "
                              "--image-model out to use the Wan model")  # fmt: skip
        self.log(f"keyframes: {chosen}")
        self.t2i = diffusers.AutoPipelineForText2Image.from_pretrained(chosen, torch_dtype=dtype)
        self.i2i = diffusers.AutoPipelineForImage2Image.from_pipe(self.t2i)
        self.kind, self.name = "image", os.path.basename(chosen)

    def _ready(self, pipe):
        """`pipe` on the device. On a GPU each model goes there only while it runs: Wan's UMT5
        encoder alone is 11 GB in bf16, more than an 8 GB card holds beside the transformer, and a
        few keyframes do not need the speed of everything resident."""
        if self._placed is not pipe:
            if self.device == "cuda":
                pipe.enable_model_cpu_offload()
            else:
                pipe.to("cpu")
            self._placed = pipe
        return pipe

    def paint(self, keyframe: Keyframe, previous: np.ndarray | None, keep: float, on_step=None) -> np.ndarray:
        """`on_step()` runs after every denoising step (it may raise to cancel)."""
        import torch
        from PIL import Image

        kwargs = dict(prompt=keyframe.prompt, negative_prompt=keyframe.negative_prompt or None,
                      num_inference_steps=self.steps, guidance_scale=self.guidance, output_type="np",
                      height=self.height, width=self.width,
                      generator=torch.Generator(device="cpu").manual_seed(keyframe.seed))  # fmt: skip
        if on_step is not None:

            def step_end(pipe, step, timestep, callback_kwargs):
                on_step()
                return callback_kwargs

            kwargs["callback_on_step_end"] = step_end
        start = None if previous is None or keep <= 0 else Image.fromarray(previous)
        strength = max(1.0 - keep, 1.0 / self.steps)  # at least one step runs
        if self.kind == "wan":
            if start is None:
                result = self._ready(self.t2i)(**kwargs, num_frames=1).frames[0][0]
            else:  # a one-frame video to video: the previous keyframe re-noised to 1 - keep
                result = self._ready(self.i2i)(**kwargs, video=[start], strength=strength).frames[0][0]
        else:
            if start is None:
                result = self._ready(self.t2i)(**kwargs).images[0]
            else:  # SD image-to-image takes its size from the image
                kwargs.pop("height"), kwargs.pop("width")
                result = self._ready(self.i2i)(**kwargs, image=start, strength=strength).images[0]
        image = np.clip(np.asarray(result) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        if image.shape[:2] != (self.height, self.width):  # SD families snap sizes to 8 or 16
            import cv2

            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        return image
