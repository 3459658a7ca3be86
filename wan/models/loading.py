"""Loading WAN pipelines with diffusers, and keeping them loaded between clips and renders.

One process (the CLI, the worker) holds at most one set of weights: a consumer GPU cannot hold
two, so switching models frees the old one first. Pipelines of another class over the same
weights (Wan 2.2 TI2V-5B does text and image to video) are made with `from_pipe`, which shares
the loaded components instead of reading them again. Under the GPU offload profiles the offload
hooks belong to one pipeline, so there a class switch reloads (rare: one render has one mode).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass

from wan.models.discovery import FoundModel
from wan.models.errors import ModelError


@dataclass(frozen=True)
class LoadKey:
    path: str
    files: tuple[str, ...]
    device: str
    dtype: str
    profile: str  # the applied profile, "cpu" without a GPU
    tiling: bool
    acceleration: str = ""  # speed options change the modules (hooks, LoRAs, compile): another key


def load_pipeline(model: FoundModel, dtype, log=print):
    """The family's diffusers pipeline from its folder; single-file transformers replace the
    folder's, with the folder's config given explicitly (never guessed from the hub)."""
    try:
        return _load_pipeline(model, dtype, log)
    except RuntimeError as exc:
        # diffusers imports its modules lazily and wraps a broken dependency (e.g. an old kornia
        # of the host's ahead of ours) in a long RuntimeError: say the cause in one line.
        if "Failed to import" not in str(exc):
            raise
        cause = str(exc.__cause__ or exc).strip().splitlines()[-1]
        raise ModelError(f"the worker's packages do not import: {cause}",
                         hint="re-run the extension's install.py with the WebUI's python, then restart") from exc  # fmt: skip


def _load_pipeline(model: FoundModel, dtype, log=print):
    import diffusers
    import torch

    # The Wan VAE runs in float32, as the model authors recommend; the rest in `dtype`.
    parts = {"vae": diffusers.AutoencoderKLWan.from_pretrained(model.path, subfolder="vae", torch_dtype=torch.float32)}
    transformer_class = (
        diffusers.WanVACETransformer3DModel if model.family == "wan2.1-vace" else diffusers.WanTransformer3DModel
    )
    for name, file in zip(("transformer", "transformer_2"), model.files):
        log(f"loading {name} from the single file {file}")
        parts[name] = transformer_class.from_single_file(
            file, config=model.path, subfolder=name, torch_dtype=dtype, local_files_only=True
        )
    return getattr(diffusers, model.pipeline).from_pretrained(model.path, **parts, torch_dtype=dtype)


class PipelineCache:
    """The loaded pipelines of one set of weights; `loads` counts reads from disk."""

    def __init__(self):
        self.key: LoadKey | None = None
        self.base = None  # as loaded, before any placement
        self.applied: tuple[str, ...] = ()  # what load() put on the base's modules (speed options), in words
        self.pipes: dict[str, object] = {}  # placed and ready, by class name
        self.loads = 0

    def get(self, key: LoadKey, pipeline_class: str, load: Callable, prepare: Callable, log=print):
        """The pipeline of `pipeline_class` over `key`'s weights. `load()` reads the weights and
        returns (pipeline, what it applied to its modules): a pipeline made from it with from_pipe
        shares those modules, options and all, so they are applied once per load, never per
        pipeline class. `prepare(pipe)` places a new pipeline on its device (profile, tiling)."""
        shared = key.profile in ("cpu", "full")  # no offload hooks: pipelines can share modules
        if key != self.key or (pipeline_class not in self.pipes and self.pipes and not shared):
            self.clear()
            self.base, self.applied = load()
            self.loads += 1
            self.key = key
        if pipeline_class not in self.pipes:
            pipe = self.base
            if type(pipe).__name__ != pipeline_class:
                import diffusers

                extra = {"expand_timesteps": True} if pipe.config.get("expand_timesteps") else {}
                log(f"{pipeline_class} shares the loaded components of {type(pipe).__name__}")
                # from_pipe casts every shared module to its torch_dtype, float32 unless told: a
                # bf16 TI2V-5B would grow by ~20 GB (transformer) + ~23 GB (UMT5).
                pipe = getattr(diffusers, pipeline_class).from_pipe(pipe, torch_dtype=pipe.dtype, **extra)
            prepare(pipe)
            self.pipes[pipeline_class] = pipe
        return self.pipes[pipeline_class]

    def clear(self) -> None:
        if self.key is None:
            return  # nothing loaded: nothing to free (and a full gc pass costs ~0.2 s)
        self.pipes.clear()
        self.base = None
        self.applied = ()
        self.key = None
        gc.collect()
        import sys

        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()


SHARED = PipelineCache()  # the process-wide cache: the CLI renders once, the worker many times
