"""Find WAN models on disk and recognise them by their configs, not their folder names.

A diffusers folder has `model_index.json` (the pipeline class and its components) and a
`transformer/config.json` whose shape tells the family and size: two experts (`transformer_2`) is
Wan 2.2 A14B, 48 latent channels is Wan 2.2 TI2V-5B, an image projection (`image_dim`) is Wan 2.1
I2V, a doubled image sequence (`pos_embed_seq_len`) is FLF2V; the hidden size (heads x head dim)
gives 1.3B (1536), 5B (3072) or 14B (5120). Any other hidden size is a tiny test model, which can
stand in for every size of its family (that is how the tests run every mode without weights).
Single-file `.safetensors` transformers (wan/models/checkpoints.py) are found too and paired with a
diffusers folder of their family and size, which supplies the other components and the config.
Pure: reads JSON files and safetensors headers only; no torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from wan.models.checkpoints import Checkpoint, classify_checkpoint, read_header
from wan.models.errors import ModelError
from wan.plan.registry import MODELS, get_model, model_names

ENV_MODELS = "WAN_WEAVE_MODELS"
SIZES = {1536: "1.3b", 3072: "5b", 5120: "14b"}
TINY = "tiny"
UNKNOWN = "?"  # the size or family of something damaged


class ModelNotFoundError(ModelError):
    """No folder for the model the plan asks for."""


@dataclass(frozen=True)
class FoundModel:
    path: str
    family: str  # e.g. "wan2.1-t2v", "wan2.2-i2v-a14b"
    size: str  # "1.3b", "5b", "14b" or "tiny"
    pipeline: str
    files: tuple[str, ...] = ()  # single-file transformer(s): transformer[, transformer_2]; path is the base
    problem: str | None = None  # why it cannot run (a single file without its base folder or partner)

    @property
    def source(self) -> str:
        """What the user put on disk: the single file(s), or the folder."""
        return " + ".join(self.files) if self.files else self.path

    @property
    def name(self) -> str:
        """The registry name, or the family plus "tiny" for a test model."""
        if self.size == TINY:
            return f"{self.family}-tiny"
        if self.size == UNKNOWN:
            return f"{self.family} (damaged)" if self.family != UNKNOWN else "(unreadable file)"
        if self.family.endswith("-a14b") or self.family == "wan2.2-ti2v-5b":
            return self.family
        suffix = ""
        if self.family == "wan2.1-i2v":
            suffix = "-480p"  # 480P and 720P share a shape; 480P is the default
        if self.family == "wan2.1-flf2v":
            suffix = "-720p"
        return f"{self.family}-{self.size}{suffix}"

    def serves(self, model: str) -> bool:
        """Whether this folder can run the registry model `model`."""
        spec = get_model(model)
        if spec is None or self.problem:
            return False
        if self.size == TINY:
            return model.startswith(self.family)
        if self.family == "wan2.1-i2v":
            return model.startswith(f"wan2.1-i2v-{self.size}")
        return model == self.name


def read_json(path: str) -> dict | None:
    """A JSON object from a file; None when it is missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def classify(folder: str) -> FoundModel | None:
    """The family and size of a diffusers WAN folder, or None if it is not one."""
    index = read_json(os.path.join(folder, "model_index.json"))
    if not index:
        return None
    pipeline = str(index.get("_class_name", ""))
    if not pipeline.startswith("Wan"):
        return None
    config = read_json(os.path.join(folder, "transformer", "config.json")) or {}
    hidden = int(config.get("num_attention_heads", 0)) * int(config.get("attention_head_dim", 0))
    size = SIZES.get(hidden, TINY)
    two_experts = "transformer_2" in index and index.get("transformer_2") not in (None, [None, None])
    if pipeline == "WanVACEPipeline":
        family = "wan2.1-vace"
    elif pipeline == "WanImageToVideoPipeline":
        if two_experts:
            family, size = "wan2.2-i2v-a14b", (TINY if size == TINY else "14b")
        elif config.get("pos_embed_seq_len"):
            family = "wan2.1-flf2v"
        else:
            family = "wan2.1-i2v"
    elif pipeline == "WanPipeline":
        if two_experts:
            family, size = "wan2.2-t2v-a14b", (TINY if size == TINY else "14b")
        elif int(config.get("in_channels", 16)) == 48:
            family, size = "wan2.2-ti2v-5b", (TINY if size == TINY else "5b")
        else:
            family = "wan2.1-t2v"
    else:
        return None
    problem = incomplete(folder, index)
    if problem and not hidden:
        size = UNKNOWN  # without the transformer's config the size cannot be told (never "tiny")
    return FoundModel(os.path.abspath(folder), family, size, pipeline, problem=problem)


WEIGHT_SUFFIXES = (".safetensors", ".bin")
MODEL_PARTS = ("transformer", "transformer_2", "vae", "text_encoder", "image_encoder")


def incomplete(folder: str, index: dict) -> str | None:
    """What an interrupted download left out of a diffusers folder: a component model_index.json
    names without its folder, a model component without config or weights, a shard an index lists
    that is absent, or a .safetensors shorter than its header says."""
    missing = []
    for name, entry in index.items():
        if name.startswith("_") or not isinstance(entry, list) or None in entry:
            continue
        path = os.path.join(folder, name)
        if not os.path.isdir(path):
            missing.append(f"{name}/")
            continue
        files = os.listdir(path)
        if name in MODEL_PARTS:  # a model has a config and weights (a tokenizer's files vary by class)
            if "config.json" not in files:
                missing.append(f"{name}/config.json")
            if not any(f.endswith(WEIGHT_SUFFIXES) for f in files):
                missing.append(f"{name}/ weights")
        for f in files:
            problem = _damaged_weights(os.path.join(path, f))
            if problem:
                missing.append(f"{name}/{problem}")
    if not missing:
        return None
    return f"incomplete (an interrupted download?): {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}"


def _damaged_weights(path: str) -> str | None:
    name = os.path.basename(path)
    if name.endswith(".safetensors.index.json"):
        index = read_json(path) or {}
        absent = sorted({f for f in (index.get("weight_map") or {}).values()
                         if not os.path.isfile(os.path.join(os.path.dirname(path), str(f)))})  # fmt: skip
        return f"{absent[0]} (listed in {name}) missing" if absent else None
    if name.endswith(".safetensors"):
        try:
            read_header(path)
        except (OSError, ValueError) as exc:
            return f"{name}: {exc}"
    return None


def models_dir(explicit: str | None = None) -> str:
    """Standalone and CLI: --models DIR, else $WAN_WEAVE_MODELS, else ./models/wan."""
    return explicit or os.environ.get(ENV_MODELS) or os.path.join(os.getcwd(), "models", "wan")


def webui_models_dir(flag: str | None, setting: str | None, models_path: str) -> str:
    """In the WebUI: the --wan-weave-models-dir flag (this launch), else the Settings entry, else
    <models_path>/wan, next to the WebUI's other models."""
    for value in (flag, setting):
        if value and value.strip():
            return os.path.expanduser(value.strip())
    return os.path.join(models_path, "wan")


PIPELINES = {
    "wan2.1-t2v": "WanPipeline",
    "wan2.1-i2v": "WanImageToVideoPipeline",
    "wan2.1-flf2v": "WanImageToVideoPipeline",
    "wan2.1-vace": "WanVACEPipeline",
    "wan2.2-ti2v-5b": "WanPipeline",
    "wan2.2-t2v-a14b": "WanPipeline",
    "wan2.2-i2v-a14b": "WanImageToVideoPipeline",
}


def _candidates(root: str) -> tuple[list[str], list[str]]:
    """Folders up to two levels below `root` (root included), and .safetensors files in root and
    its direct subfolders that are not parts of a diffusers folder."""
    folders, files = [root], []
    direct = [root]
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.is_dir():
            folders.append(entry.path)
            direct.append(entry.path)
            folders += sorted(e.path for e in os.scandir(entry.path) if e.is_dir())
    for folder in direct:
        if folder != root and os.path.isfile(os.path.join(folder, "model_index.json")):
            continue
        files += sorted(e.path for e in os.scandir(folder) if e.is_file() and e.name.lower().endswith(".safetensors"))
    return folders, files


def _single_file_models(checkpoints: list[Checkpoint], folders: list[FoundModel]) -> list[FoundModel]:
    """Each checkpoint (or pair of A14B experts) with the diffusers folder that completes it."""
    units: list[list[Checkpoint]] = []
    pairs: dict[tuple[str, str, str], list[Checkpoint]] = {}
    for ck in checkpoints:
        if ck.expert is None:
            units.append([ck])
        else:
            key = (os.path.dirname(ck.path), ck.family, ck.pair_name)
            if key not in pairs:
                pairs[key] = []
                units.append(pairs[key])
            pairs[key].append(ck)
    found = []
    for unit in units:
        first = unit[0]
        base = next((m for m in folders if m.family == first.family and m.size == first.size and not m.files), None)
        problem = None
        experts = {ck.expert: ck.path for ck in unit}
        if any(ck.scaled_fp8 for ck in unit):
            problem = (
                "a ComfyUI fp8_scaled file (a scale_weight per layer): diffusers' single-file loader drops the "
                "scales, so it would render noise; use the bf16/fp16 file or the diffusers folder (--fp8 stores "
                "those in fp8 correctly)"
            )
        elif first.family.endswith("-a14b") and first.expert is None:
            problem = "a Wan 2.2 A14B expert file must say high_noise or low_noise in its name"
        elif first.family == "wan2.1-flf2v" and first.key_format == "wan":
            # diffusers 0.42 leaves img_emb.emb_pos unconverted, and the model then fails to load.
            problem = (
                "diffusers cannot convert an original-format FLF2V file yet (img_emb.emb_pos); "
                "use the diffusers folder Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers"
            )
        elif first.expert is not None and set(experts) != {"high", "low"}:
            missing = "low" if "low" not in experts else "high"
            problem = f"the {missing}_noise expert file is missing next to {os.path.basename(first.path)}"
        elif base is None:
            problem = (
                f"a single-file {first.family} {first.size} transformer needs a diffusers folder of the same model "
                "next to it (text encoder, VAE and config come from there)"
            )
        files = (experts["high"], experts["low"]) if not problem and first.expert else tuple(ck.path for ck in unit)
        path = base.path if base else first.path
        found.append(FoundModel(path, first.family, first.size, PIPELINES[first.family], files, problem))
    return found


def discover(root: str) -> tuple[FoundModel, ...]:
    """Every WAN folder up to two levels below `root` (root itself included), then every
    single-file transformer in root and its direct subfolders."""
    if not os.path.isdir(root):
        return ()
    folder_paths, file_paths = _candidates(root)
    folders = [m for m in map(classify, folder_paths) if m]
    checkpoints, unreadable = [], []
    for path in file_paths:
        try:
            checkpoint = classify_checkpoint(path)
        except ValueError as exc:
            unreadable.append(FoundModel(os.path.abspath(path), UNKNOWN, UNKNOWN, "", (os.path.abspath(path),),
                                         f"not a readable .safetensors file: {exc}"))  # fmt: skip
            continue
        if checkpoint:
            checkpoints.append(checkpoint)
    return tuple(folders + _single_file_models(checkpoints, folders) + unreadable)


def weights_model(weights: str, root: str) -> FoundModel:
    """The model at an explicit path: a diffusers folder, or a single file completed from `root`."""
    if os.path.isdir(weights):
        found = classify(weights)
        if found is None:
            raise ModelNotFoundError("not a diffusers WAN folder (no WAN model_index.json)", where=weights)
        return found
    try:
        checkpoint = classify_checkpoint(weights) if os.path.isfile(weights) else None
    except ValueError as exc:
        raise ModelNotFoundError(f"not a readable .safetensors file: {exc}", where=weights) from None
    if checkpoint is None:
        raise ModelNotFoundError(
            "not a WAN transformer .safetensors file" if os.path.exists(weights) else "no such file or folder",
            where=weights,
            hint="pass a diffusers folder or a single-file WAN transformer",
        )
    folders = [m for m in discover(root) if not m.files] if os.path.isdir(root) else []
    partners = [checkpoint]
    if checkpoint.expert:
        folder = os.path.dirname(checkpoint.path)
        for name in sorted(os.listdir(folder)):
            try:
                other = classify_checkpoint(os.path.join(folder, name)) if name.endswith(".safetensors") else None
            except ValueError:
                other = None  # a damaged partner reads as missing, and is named so
            if other and other.path != checkpoint.path and other.pair_name == checkpoint.pair_name:
                partners.append(other)
    (model,) = _single_file_models(partners, folders)
    if model.problem:
        raise ModelNotFoundError(model.problem, where=weights, hint=f"put it under {root}, or pass --models DIR")
    return model


def find_model(root: str, model: str, weights: str | None = None) -> FoundModel:
    """The folder or file for `model`: `weights` when given, else the best under `root`: a
    diffusers folder of the exact size first, then a single file, then a tiny stand-in."""
    if weights:
        found = weights_model(weights, root)
        if not found.serves(model):
            raise ModelNotFoundError(
                f"this is a {found.family} ({found.size}) model and the plan asks for {model}",
                where=weights,
                hint="pass weights of that model, or plan with --model "
                + " or ".join(m.name for m in MODELS if found.serves(m.name)),
            )
        return found
    found = discover(root)
    matches = sorted((m for m in found if m.serves(model)), key=lambda m: (m.size == TINY, bool(m.files)))
    if matches:
        return matches[0]
    spec = get_model(model)
    broken = [m for m in found if m.problem and spec and model.startswith(m.family)]
    if broken:
        raise ModelNotFoundError(f"{broken[0].source} cannot run {model}: {broken[0].problem}", where=root)
    have = ", ".join(f"{m.name} ({m.source}{': ' + m.problem if m.family == UNKNOWN else ''})" for m in found)
    have = have or "nothing"
    repo = spec.repo_id if spec else "the model"
    raise ModelNotFoundError(
        f"no folder for {model} under {root} (found: {have})",
        hint=f"download {repo} into {os.path.join(root, model)}, or pass --models DIR",
    )


def served_models(root: str) -> tuple[str, ...]:
    """The registry models the folder can run (test models stand in for their family's)."""
    found = discover(root)
    return tuple(name for name in model_names() if any(m.serves(name) for m in found))
