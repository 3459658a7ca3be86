"""Speed options on tiny models: each really changes the pipeline (hooks, backend, compile, fp8
storage, LoRA with its weight, distillation preset), they combine, unavailable ones are clear
errors, and with everything off the frames are bit-identical to a plain diffusers call."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest

from movement import load_settings
from tests.conftest import EXAMPLES, wan
from wan.engine.assets import read_assets
from wan.engine.wan_engine import WanEngine
from wan.models.errors import ModelError
from wan.models.loading import PipelineCache
from wan.models.speed import hooked_modules
from wan.plan.build import PlanOptions, build_plan
from wan.plan.errors import PlanError
from wan.plan.negative import negative_prompt
from wan.plan.speed import Acceleration

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
pytest.importorskip("peft")


def plan_with(acc: Acceleration | None = None, **options):
    settings = load_settings(EXAMPLES / "greenhouse_2d.txt")
    return build_plan(settings, PlanOptions(**{"width": 64, "height": 48, "steps": 2, "seed": 3, "acceleration": acc,
                                               **options}))  # fmt: skip


def engine(models, acc=None, **options) -> WanEngine:
    e = WanEngine(plan_with(acc, **options), str(models), log=lambda m: None, cache=PipelineCache())
    e._load()
    return e


def tiny_lora(models, path, seed: int = 0, folder: str = "wan2.1-t2v-tiny") -> str:
    """A PEFT-format LoRA for the tiny transformer's attention projections (rank 2)."""
    from safetensors.torch import save_file

    transformer = diffusers.WanTransformer3DModel.from_pretrained(models / folder, subfolder="transformer")
    g = torch.Generator().manual_seed(seed)
    state = {}
    for i, _ in enumerate(transformer.blocks):
        for name in ("to_q", "to_k"):
            linear = getattr(transformer.blocks[i].attn1, name)
            key = f"transformer.blocks.{i}.attn1.{name}"
            state[f"{key}.lora_A.weight"] = torch.randn(2, linear.in_features, generator=g)
            state[f"{key}.lora_B.weight"] = torch.randn(linear.out_features, 2, generator=g)
    save_file(state, str(path))
    return str(path)


def test_each_option_changes_the_pipeline(tiny_models, tmp_path):
    t = engine(tiny_models, Acceleration(cache="fbc")).pipe.transformer
    assert "fbc_leader_block_hook" in t.blocks[0]._diffusers_hook.hooks
    t = engine(tiny_models, Acceleration(attention="_native_math")).pipe.transformer
    assert str(t.blocks[0].attn1.processor._attention_backend).endswith("_NATIVE_MATH")
    t = engine(tiny_models, Acceleration(compile=True)).pipe.transformer
    assert all(block._compiled_call_impl is not None for block in t.blocks)
    t = engine(tiny_models, Acceleration(fp8=True)).pipe.transformer
    assert t.blocks[0].attn1.to_q.weight.dtype == torch.float8_e4m3fn
    lora = tiny_lora(tiny_models, tmp_path / "style.safetensors")
    e = engine(tiny_models, Acceleration(loras=((lora, 0.7),)))
    assert e.pipe.get_active_adapters() == ["lora0"]
    assert e.pipe.transformer.blocks[0].attn1.to_q.scaling["lora0"] == pytest.approx(0.7)
    assert e.speed == ["LoRA style.safetensors x0.7"]


def test_everything_off_is_bit_identical_to_plain_diffusers(tiny_models):
    plan = plan_with()
    clip = plan.clips[0]
    ours = WanEngine(plan, str(tiny_models), log=lambda m: None, cache=PipelineCache()).render_clip(clip)
    pipe = diffusers.WanPipeline.from_pretrained(tiny_models / "wan2.1-t2v-tiny")
    pipe.vae = diffusers.AutoencoderKLWan.from_pretrained(tiny_models / "wan2.1-t2v-tiny", subfolder="vae")
    pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config, flow_shift=plan.shift)  # the plan's
    negative = negative_prompt(clip.negative_prompt, plan.model, "WanPipeline")  # Wan's default, as the engine sends
    out = pipe(prompt=clip.effective_prompt, negative_prompt=negative, height=48, width=64,
               num_frames=clip.num_frames, num_inference_steps=2, guidance_scale=plan.guidance,
               generator=torch.Generator().manual_seed(clip.seed), output_type="np").frames[0]  # fmt: skip
    plain = [np.clip(f * 255.0 + 0.5, 0, 255).astype(np.uint8) for f in out]
    assert all(np.array_equal(a, b) for a, b in zip(ours, plain))
    cached = WanEngine(plan_with(Acceleration(cache="fbc", cache_threshold=0.5)), str(tiny_models),
                       log=lambda m: None, cache=PipelineCache()).render_clip(clip)  # fmt: skip
    assert not all(np.array_equal(a, b) for a, b in zip(ours, cached))  # the cache really skips work


def test_taylorseer_hooks_wans_blocks_and_predicts_steps(tiny_models):
    e = engine(tiny_models, Acceleration(cache="taylorseer"), steps=8)
    hooked = hooked_modules(e.pipe.transformer, "taylorseer_cache")
    # attn1, attn2 and ffn of every block: diffusers' default patterns hooked none of them.
    assert hooked == 3 * len(e.pipe.transformer.blocks) and e.speed == [f"cache taylorseer ({hooked} modules)"]
    clip = e.plan.clips[0]
    cached = e.render_clip(clip)
    plain = WanEngine(plan_with(steps=8), str(tiny_models), log=lambda m: None, cache=PipelineCache()).render_clip(clip)
    assert not all(np.array_equal(a, b) for a, b in zip(cached, plain))  # steps 4, 6, 7 were predicted


def test_first_block_cache_is_refused_for_vace(tiny_models):
    with pytest.raises(PlanError, match="VACE's control hints twice"):
        plan_with(Acceleration(cache="fbc"), mode="vace_continue")
    # A saved plan.json given the cache later is refused when the pipeline loads.
    plan = dataclasses.replace(plan_with(mode="vace_continue"), acceleration=Acceleration(cache="fbc"))
    with pytest.raises(ModelError, match="VACE's control hints twice"):
        WanEngine(plan, str(tiny_models), log=lambda m: None, cache=PipelineCache())._load()


def test_unavailable_backend_is_a_clear_error(tiny_models):
    with pytest.raises(ModelError, match="attention backend 'flash' is not available"):
        engine(tiny_models, Acceleration(attention="flash"))


def test_distill_preset_sets_steps_guidance_shift_and_loads_its_lora(tiny_models, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(tiny_models / "wan2.1-t2v-tiny", models / "wan2.1-t2v-tiny")
    (models / "loras").mkdir()
    tiny_lora(tiny_models, models / "loras" / "wan_lightx2v_tiny.safetensors")
    plan = build_plan(load_settings(EXAMPLES / "greenhouse_2d.txt"),
                      PlanOptions(width=64, height=48, acceleration=Acceleration(distill="lightx2v")))  # fmt: skip
    assert (plan.steps, plan.guidance, plan.shift) == (4, 1.0, 5.0)
    e = WanEngine(plan, str(models), log=lambda m: None, cache=PipelineCache())
    e._load()
    assert e.speed == ["LoRA wan_lightx2v_tiny.safetensors x1"] and e.pipe.scheduler.config.flow_shift == 5.0
    with pytest.raises(ModelError, match="no causvid LoRA"):
        WanEngine(
            plan_with(Acceleration(distill="causvid")), str(models), log=lambda m: None, cache=PipelineCache()
        )._load()


def test_options_combine_from_the_command_line(tiny_models, tmp_path):
    lora = tiny_lora(tiny_models, tmp_path / "style.safetensors", seed=1)
    out = tmp_path / "out"
    result = wan("render", EXAMPLES / "greenhouse_2d.txt", "--engine", "wan", "--models", tiny_models, "--width", "64",
                 "--height", "48", "--steps", "2", "--preset", "ultrafast", "--out", out, "--fp8", "--step-cache",
                 "fbc", "--attention", "_native_math", "--lora", f"{lora}:0.5")  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "done" and len(manifest["speed"]) == 4
    plan = json.loads((out / "plan.json").read_text())
    assert plan["acceleration"]["loras"] == [[lora, 0.5]] and plan["acceleration"]["cache"] == "fbc"


def test_distill_on_a_saved_plan_is_refused_not_dropped(tmp_path):
    plan = tmp_path / "plan.json"
    assert wan("plan", EXAMPLES / "greenhouse_2d.txt", "--out", plan).returncode == 0
    result = wan("render", plan, "--distill", "lightx2v", "--fp8", "--out", tmp_path / "out")
    assert result.returncode == 2 and "--distill re-plans steps" in result.stderr and str(plan) in result.stderr
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_models_on_the_command_line_select_the_wan_engine(tmp_path):
    empty = tmp_path / "models"
    empty.mkdir()
    result = wan("render", EXAMPLES / "greenhouse_2d.txt", "--models", empty, "--out", tmp_path / "out")
    # The WAN engine looked in the folder (and found nothing) instead of rendering the animatic.
    assert result.returncode == 2 and "--models given: rendering with the wan engine" in result.stdout
    assert "no folder for wan2.1-t2v-1.3b" in result.stderr, result.stderr
    shown = wan("render", EXAMPLES / "greenhouse_2d.txt", "--engine", "preview", "--models", empty, "--width", "64",
                "--height", "48", "--preset", "ultrafast", "--out", tmp_path / "preview")  # fmt: skip
    assert shown.returncode == 0 and "--models not used" in shown.stdout


def test_a_distillation_pair_goes_into_the_matching_experts(tiny_models, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    os.symlink(tiny_models / "wan2.2-t2v-a14b-tiny", models / "wan2.2-t2v-a14b-tiny")
    loras = models / "loras"
    loras.mkdir()
    for seed, name in enumerate(("wan2.2_i2v_a14b_high_noise_lightning", "wan2.2_t2v_a14b_high_noise_lightning",
                                 "wan2.2_t2v_a14b_low_noise_lightning")):  # fmt: skip
        tiny_lora(tiny_models, loras / f"{name}.safetensors", seed=seed, folder="wan2.2-t2v-a14b-tiny")
    e = engine(models, Acceleration(distill="lightning"), model="wan2.2-t2v-a14b")
    high, low = e.pipe.transformer, e.pipe.transformer_2
    assert list(high.peft_config) == ["distill_high"] and list(low.peft_config) == ["distill_low"]
    assert e.speed == ["LoRA wan2.2_t2v_a14b_high_noise_lightning.safetensors x1 (transformer), "
                       "wan2.2_t2v_a14b_low_noise_lightning.safetensors x1 (transformer_2)"]  # fmt: skip


def test_text_then_image_to_video_on_one_ti2v_with_a_cache(tiny_models, tmp_path):
    """TI2V-5B serves both from one set of weights (from_pipe): the options, already on the shared
    transformer, must not be applied twice ("Caching has already been enabled")."""
    import cv2

    cv2.imwrite(str(tmp_path / "init.png"), np.full((64, 64, 3), 90, np.uint8))
    data = json.loads((EXAMPLES / "greenhouse_2d.txt").read_text())
    data.update(use_init=True, init_image=str(tmp_path / "init.png"))
    settings = load_settings(write_json(tmp_path / "s.txt", data))
    cache, acc = PipelineCache(), Acceleration(cache="taylorseer")
    for mode in ("t2v", "i2v_chain"):
        plan = build_plan(settings, PlanOptions(model="wan2.2-ti2v-5b", mode=mode, width=64, height=64, steps=2,
                                                seed=1, acceleration=acc))  # fmt: skip
        e = WanEngine(plan, str(tiny_models), read_assets(plan, settings), log=lambda m: None, cache=cache)
        e.render_clip(plan.clips[0])
        assert e.speed and e.speed[0].startswith("cache taylorseer")
    assert cache.loads == 1 and set(cache.pipes) == {"WanPipeline", "WanImageToVideoPipeline"}
    # A render that finds its pipeline loaded still reports the options on it (the manifest's list).
    again = WanEngine(plan, str(tiny_models), read_assets(plan, settings), log=lambda m: None, cache=cache)
    again._load()
    assert again.speed == e.speed and cache.loads == 1


def test_a_cancel_leaves_no_step_cache_state_for_the_next_job(tiny_models):
    from wan.render.errors import RenderCancelled

    e = engine(tiny_models, Acceleration(cache="taylorseer"), steps=8)
    clip = e.plan.clips[0]

    def cancel_at_five(c, step, steps):
        if step == 5:
            raise RenderCancelled("cancelled")

    with pytest.raises(RenderCancelled):
        e.render_clip(clip, cancel_at_five)
    after_cancel = e.render_clip(clip)
    fresh = engine(tiny_models, Acceleration(cache="taylorseer"), steps=8).render_clip(clip)
    assert all(np.array_equal(a, b) for a, b in zip(after_cancel, fresh))


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


def test_compile_does_not_recompile_for_every_clip_length(tiny_models):
    """Clips differ in length (the last one, often): with dynamic=False each length was a new
    compile (4 lengths: 4 graphs); now the second length marks the frame axis dynamic."""
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    e = engine(tiny_models, Acceleration(compile=True))
    for frames in (17, 9, 13, 5):
        e.render_clip(dataclasses.replace(e.plan.clips[0], num_frames=frames))
    assert counters["stats"]["unique_graphs"] <= 2


def test_a_speed_flag_on_a_distilled_plan_keeps_its_distillation(tmp_path):
    from wan.cli.main import build_parser
    from wan.cli.speed import acceleration_from_args

    plan = plan_with(Acceleration(distill="lightx2v", loras=(("style.safetensors", 0.5),)))
    args = build_parser().parse_args(["render", "plan.json", "--fp8"])
    merged = acceleration_from_args(args, base=plan.acceleration)
    # 4 steps and guidance 1 without the LoRA that makes them work would be noise.
    assert (merged.distill, merged.loras, merged.fp8) == ("lightx2v", (("style.safetensors", 0.5),), True)
