"""Loading: single-file transformers (diffusers' from_single_file with an explicit config) and the
pipeline cache that keeps one set of weights loaded across clips and renders. Tiny models, CPU."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from movement import load_settings
from tests.conftest import EXAMPLES, wan
from wan.engine.assets import read_assets
from wan.engine.wan_engine import WanEngine
from wan.media.video import probe
from wan.models.checkpoints import classify_checkpoint, read_header
from wan.models.discovery import ModelNotFoundError, discover, find_model
from wan.models.loading import PipelineCache
from wan.plan.build import PlanOptions, build_plan

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")


def quiet(_message):
    pass


def plan_for(model: str, mode: str | None = None, settings=None):
    settings = settings or load_settings(EXAMPLES / "harbor_3d.txt")
    return build_plan(settings, PlanOptions(model=model, mode=mode, width=64, height=64, steps=2, seed=4))


def weights_like(folder, subfolder: str, seed: int) -> dict:
    """What save_single_file wrote: the folder's config with weights drawn from `seed`."""
    config = diffusers.WanTransformer3DModel.load_config(os.path.join(folder, subfolder))
    torch.manual_seed(seed)
    return getattr(diffusers, config["_class_name"]).from_config(config).state_dict()


def same(module, state: dict) -> bool:
    mine = module.state_dict()
    return mine.keys() == state.keys() and all(torch.equal(mine[k], state[k]) for k in state)


def test_single_files_are_recognised_from_their_headers(single_files):
    names = {os.path.basename(m.source): m for m in discover(str(single_files)) if m.files}
    finetune = names["wan2.1_t2v_tiny_finetune.safetensors"]
    assert (finetune.family, finetune.size, finetune.problem) == ("wan2.1-t2v", "tiny", None)
    assert finetune.path == str(single_files / "wan2.1-t2v-tiny")  # the folder that completes it
    pair = next(m for m in names.values() if m.family == "wan2.2-t2v-a14b")
    assert [os.path.basename(f) for f in pair.files] == [
        "wan2.2_t2v_tiny_high_noise.safetensors",
        "wan2.2_t2v_tiny_low_noise.safetensors",
    ]
    checkpoint = classify_checkpoint(pair.files[0])
    assert (checkpoint.expert, checkpoint.key_format) == ("high", "wan")
    assert all(not k.startswith("model.diffusion_model.") for k in read_header(pair.files[0]))


def test_a_single_file_loads_its_own_weights_not_the_folders(single_files):
    base = single_files / "wan2.1-t2v-tiny"
    weights = str(single_files / "single" / "wan2.1_t2v_tiny_finetune.safetensors")
    engine = WanEngine(
        plan_for("wan2.1-t2v-1.3b"), str(single_files), weights=weights, log=quiet, cache=PipelineCache()
    )
    pipe = engine._load()
    assert same(pipe.transformer, weights_like(base, "transformer", 11))
    assert not same(
        pipe.transformer, diffusers.WanTransformer3DModel.from_pretrained(base, subfolder="transformer").state_dict()
    )


def test_the_two_expert_files_fill_both_transformers(single_files):
    weights = str(single_files / "single" / "wan2.2_t2v_tiny_low_noise.safetensors")  # either file names the pair
    engine = WanEngine(
        plan_for("wan2.2-t2v-a14b"), str(single_files), weights=weights, log=quiet, cache=PipelineCache()
    )
    pipe = engine._load()
    base = single_files / "wan2.2-t2v-a14b-tiny"
    assert same(pipe.transformer, weights_like(base, "transformer", 12))
    assert same(pipe.transformer_2, weights_like(base, "transformer_2", 13))


def test_render_from_a_single_file_on_the_command_line(single_files, tmp_path):
    out = tmp_path / "out"
    weights = single_files / "single" / "wan2.2_t2v_tiny_high_noise.safetensors"
    result = wan("render", EXAMPLES / "greenhouse_2d.txt", "--engine", "wan", "--models", single_files,
                 "--weights", weights, "--model", "wan2.2-t2v-a14b", "--width", "64", "--height", "48",
                 "--steps", "2", "--out", out, "--preset", "ultrafast")  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert "high_noise" in manifest["model_path"] and "low_noise" in manifest["model_path"]
    settings = load_settings(EXAMPLES / "greenhouse_2d.txt")
    assert probe(str(out / f"{manifest['video']}")).frames == settings.max_frames


def test_a_folder_is_preferred_and_the_listing_says_what_completes_a_file(single_files):
    assert find_model(str(single_files), "wan2.1-t2v-1.3b").files == ()
    listed = json.loads(wan("models", "--models", single_files, "--json").stdout)["models"]
    files = [m for m in listed if m["files"]]
    assert {m["name"] for m in files} == {"wan2.1-t2v-tiny", "wan2.2-t2v-a14b-tiny"}
    assert all(m["problem"] is None and m["path"].startswith(str(single_files)) for m in files)


def test_single_files_that_cannot_run_say_why(single_files, tmp_path):
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(single_files / "single" / "wan2.2_t2v_tiny_high_noise.safetensors", lone)
    shutil.copy(single_files / "single" / "wan2.1_t2v_tiny_finetune.safetensors", lone)
    problems = {os.path.basename(m.source): m.problem for m in discover(str(lone))}
    assert "low_noise expert file is missing" in problems["wan2.2_t2v_tiny_high_noise.safetensors"]
    assert "needs a diffusers folder" in problems["wan2.1_t2v_tiny_finetune.safetensors"]
    with pytest.raises(ModelNotFoundError, match="needs a diffusers folder"):
        find_model(str(lone), "wan2.1-t2v-1.3b")
    from wan.testing.tiny_models import save_single_file

    # diffusers cannot convert the original FLF2V layout: a clear refusal instead of a crash while loading.
    flf2v = save_single_file(single_files / "wan2.1-flf2v-tiny", "transformer", str(tmp_path / "flf2v.safetensors"))
    with pytest.raises(ModelNotFoundError, match=r"img_emb\.emb_pos"):
        find_model(str(single_files), "wan2.1-flf2v-14b-720p", weights=flf2v)
    finetune = str(single_files / "single" / "wan2.1_t2v_tiny_finetune.safetensors")
    with pytest.raises(ModelNotFoundError, match=r"plan asks for wan2\.2-t2v-a14b") as info:
        find_model(str(single_files), "wan2.2-t2v-a14b", weights=finetune)
    assert "--model wan2.1-t2v-1.3b or wan2.1-t2v-14b" in str(info.value)
    (tmp_path / "junk.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match="not plausible"):
        classify_checkpoint(str(tmp_path / "junk.safetensors"))


def test_fp8_scaled_files_are_refused_by_name(single_files, tmp_path):
    """ComfyUI's fp8_scaled: a scale_weight per layer, which diffusers' loader would drop (noise)."""
    from safetensors.torch import load_file, save_file

    source = single_files / "single" / "wan2.1_t2v_tiny_finetune.safetensors"
    state = load_file(str(source))
    weights = [k for k in state if k.endswith(".weight") and state[k].ndim == 2]
    state.update({k.removesuffix("weight") + "scale_weight": torch.tensor([0.02]) for k in weights})
    scaled = tmp_path / "wan2.1_t2v_tiny_fp8_scaled.safetensors"
    save_file(state, str(scaled))
    with pytest.raises(ModelNotFoundError, match="fp8_scaled") as info:
        find_model(str(single_files), "wan2.1-t2v-1.3b", weights=str(scaled))
    assert str(scaled) in str(info.value)
    models = tmp_path / "models"
    shutil.copytree(single_files / "wan2.1-t2v-tiny", models / "wan2.1-t2v-tiny")
    shutil.copy(scaled, models / scaled.name)
    (found,) = [m for m in discover(str(models)) if m.files]
    assert "scale_weight" in found.problem and not found.serves("wan2.1-t2v-1.3b")


def test_interrupted_downloads_are_named_not_picked(tiny_models, single_files, tmp_path):
    only_index = tmp_path / "models" / "wan2.1-t2v-14b"
    only_index.mkdir(parents=True)
    shutil.copy(tiny_models / "wan2.1-t2v-tiny" / "model_index.json", only_index)
    (found,) = discover(str(tmp_path / "models"))
    assert found.size == "?" and "transformer/" in found.problem and not found.serves("wan2.1-t2v-14b")
    with pytest.raises(ModelNotFoundError, match=r"incomplete .*transformer/"):
        find_model(str(tmp_path / "models"), "wan2.1-t2v-14b")
    # A shard cut short inside a diffusers folder.
    cut = tmp_path / "cut" / "wan2.1-t2v-tiny"
    shutil.copytree(tiny_models / "wan2.1-t2v-tiny", cut)
    shard = next((cut / "transformer").glob("*.safetensors"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    (found,) = discover(str(tmp_path / "cut"))
    assert "truncated" in found.problem and shard.name in found.problem
    # A single file cut short: `models` names it instead of "no WAN models".
    lone = tmp_path / "lone"
    lone.mkdir()
    whole = (single_files / "single" / "wan2.1_t2v_tiny_finetune.safetensors").read_bytes()
    (lone / "wan_t2v.safetensors").write_bytes(whole[: len(whole) // 3])
    shown = wan("models", "--models", lone)
    assert shown.returncode == 0 and "no WAN models" not in shown.stdout
    assert "wan_t2v.safetensors" in shown.stdout and "truncated" in shown.stdout


def test_a_loaded_model_is_reused_across_renders(tiny_models):
    cache = PipelineCache()
    first = WanEngine(plan_for("wan2.1-t2v-1.3b"), str(tiny_models), log=quiet, cache=cache)
    first.render_clip(first.plan.clips[0])
    logged = []
    second = WanEngine(plan_for("wan2.1-t2v-1.3b"), str(tiny_models), log=logged.append, cache=cache)
    second.render_clip(second.plan.clips[0])
    assert cache.loads == 1 and second.pipe is first.pipe
    assert any("already loaded" in m for m in logged)
    WanEngine(plan_for("wan2.2-t2v-a14b"), str(tiny_models), log=quiet, cache=cache)._load()
    assert cache.loads == 2 and first.pipe not in cache.pipes.values()  # one set of weights at a time


def test_another_task_over_the_same_weights_shares_the_components(tiny_models, tmp_path):
    import cv2
    import numpy as np

    cv2.imwrite(str(tmp_path / "init.png"), np.full((64, 64, 3), 90, np.uint8))
    data = json.loads((EXAMPLES / "harbor_3d.txt").read_text())
    data.update(use_init=True, init_image="init.png")
    (tmp_path / "s.txt").write_text(json.dumps(data))
    settings = load_settings(tmp_path / "s.txt")
    cache = PipelineCache()
    t2v_plan = plan_for("wan2.2-ti2v-5b", "t2v")
    t2v = WanEngine(t2v_plan, str(tiny_models), read_assets(t2v_plan, settings), log=quiet, cache=cache)._load()
    i2v_plan = plan_for("wan2.2-ti2v-5b", "i2v_chain", settings)
    i2v = WanEngine(i2v_plan, str(tiny_models), read_assets(i2v_plan, settings), log=quiet, cache=cache)._load()
    assert cache.loads == 1 and type(i2v).__name__ == "WanImageToVideoPipeline"
    assert i2v.transformer is t2v.transformer and i2v.vae is t2v.vae and i2v.text_encoder is t2v.text_encoder


def test_a_pipeline_shared_through_from_pipe_keeps_the_loaded_dtype(tiny_models):
    """TI2V-5B's image-to-video shares the text-to-video weights; diffusers' from_pipe would cast
    them to float32 unless told the dtype (on a GPU, +~43 GB)."""
    from wan.models.discovery import find_model
    from wan.models.loading import LoadKey, load_pipeline

    model = find_model(str(tiny_models), "wan2.2-ti2v-5b")
    key = LoadKey(model.path, model.files, "cpu", "torch.bfloat16", "cpu", False, "")
    cache = PipelineCache()
    base = cache.get(key, "WanPipeline", lambda: (load_pipeline(model, torch.bfloat16, quiet), ()), lambda p: None,
                     quiet)  # fmt: skip
    i2v = cache.get(key, "WanImageToVideoPipeline", lambda: None, lambda p: None, quiet)
    assert type(i2v).__name__ == "WanImageToVideoPipeline" and i2v.transformer is base.transformer
    assert {i2v.transformer.dtype, i2v.text_encoder.dtype, base.transformer.dtype} == {torch.bfloat16}
