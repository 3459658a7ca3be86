"""The WAN engine: runs each clip of a plan through a diffusers pipeline.

Loads lazily, once per render; the folder comes from discovery (configs, not names). Frames come
back as uint8 arrays and go straight to the resampler: nothing is re-read from an encoded file.
This first slice renders `t2v`; the other modes say so instead of guessing.
"""

from __future__ import annotations

import time

import numpy as np

from .discovery import FoundModel, find_model
from .errors import RenderError
from .plan import Clip, GenerationPlan
from .registry import get_model

SUPPORTED_MODES = ("t2v",)


class WanEngine:
    name = "wan"

    def __init__(self, plan: GenerationPlan, models_root: str, *, log=print) -> None:
        if plan.mode not in SUPPORTED_MODES:
            raise RenderError(
                f"the wan engine does not render mode {plan.mode!r} yet",
                hint=f"use --mode {' or '.join(SUPPORTED_MODES)}, or --engine preview",
            )
        self.plan = plan
        self.log = log
        self.model: FoundModel = find_model(models_root, plan.model)
        self.warnings: list[str] = []
        self.pipe = None
        self.seconds_in_pipeline = 0.0

    def _load(self):
        try:
            import torch
            from diffusers import AutoencoderKLWan, WanPipeline
        except ImportError as exc:
            raise RenderError(
                f"the wan engine needs torch and diffusers ({exc.name} is missing)",
                hint="pip install -r requirements-worker.txt",
            ) from None
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        self.log(f"loading {self.model.name} from {self.model.path} on {device}")
        # The Wan VAE runs in float32, as the model authors recommend; the rest in bf16 on a GPU.
        vae = AutoencoderKLWan.from_pretrained(self.model.path, subfolder="vae", torch_dtype=torch.float32)
        pipe = WanPipeline.from_pretrained(self.model.path, vae=vae, torch_dtype=dtype)
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(device)
        self.device = device
        return self.pipe

    def render_clip(self, clip: Clip) -> list[np.ndarray]:
        import torch

        pipe = self.pipe or self._load()
        spec = get_model(self.plan.model)
        assert spec is not None
        generator = torch.Generator(device="cpu").manual_seed(clip.seed)
        started = time.perf_counter()
        result = pipe(
            prompt=clip.effective_prompt,
            negative_prompt=clip.negative_prompt or None,
            height=self.plan.height,
            width=self.plan.width,
            num_frames=clip.num_frames,
            num_inference_steps=self.plan.steps,
            guidance_scale=self.plan.guidance,
            generator=generator,
            output_type="np",
        )
        self.seconds_in_pipeline += time.perf_counter() - started
        frames = np.asarray(result.frames[0])
        if frames.shape[0] != clip.num_frames:
            raise RenderError(
                f"the pipeline returned {frames.shape[0]} frames for clip {clip.index}, asked {clip.num_frames}"
            )
        return [np.clip(f * 255.0 + 0.5, 0, 255).astype(np.uint8) for f in frames]
