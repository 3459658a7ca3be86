"""Benchmark: WAN denoising speed and memory, with full-size random-weight transformers.

    python bench/gpu.py --prepare      # here, with the network: the wheels the GPU machine lacks
    python bench/gpu.py                # on a GPU: the 1.3B (--sizes 1.3b,5b,14b for more)
    python bench/gpu.py --smoke        # a scaled-down config on the CPU (CI runs this)

A lent GPU machine has torch but no diffusers and no network: `--prepare` downloads the pinned
diffusers wheel (requirements-overlay.txt) into bench/.wheels (ignored by git; carry it), and a run
without diffusers installs it from there into bench/.deps first. One command, inside 8 minutes.

Builds WanTransformer3DModel from the official configs' shapes (random weights: speed and memory
do not depend on the values), and times denoising steps with CFG (two passes) at 832x480x81
(32,760 tokens) in bf16 for each attention backend / fp8 / compile / step-cache setting. The steps
are real sampling steps (flow-matching Euler updates of the latents from the CFG output, a new
timestep each), so a step cache sees a real trajectory, not one latent over and over. Reports the
achieved TFLOP/s from the analytic count (per pass: 30 layers x (8ND^2 + 4N^2D + 4ND^2 + 4MD^2 +
4NMD + 4NDF) for the 1.3B: 566 TFLOP per CFG step), the peak memory of each setting, and for the
1.3B the peak of a whole 2-step clip (UMT5-XXL text encoder + transformer + VAE decode) per memory
profile, and of a 5-clip run with 'low'. Prints one JSON object. Targets (H100): <= 0.75 s per CFG
step for the 1.3B; 1.3B peak <= 7 GB with 'low'; 5 clips' peak within 5% of one clip's.

    python bench/gpu.py --adherence DIR [--adherence-steps N]   # guided renders of the examples

`--adherence DIR` also renders the 2D and 3D examples with the WAN engine in their default guided
mode from the models in DIR (`tiny`: tiny random models made on the spot; real weights, e.g.
Wan2.1-T2V-1.3B and VACE-1.3B with Depth-Anything-V2-Small, are what make the output's figures
mean something), and reports each render's manifest figures under "adherence": the camera
adherence of the guide and of the output, the seams of both, the seconds and the mode. With random
weights the output's figures measure noise; the guide's are exact either way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
WHEELS, DEPS = os.path.join(HERE, ".wheels"), os.path.join(HERE, ".deps")
CARRIED = ("diffusers",)  # what the GPU machine's image lacks (torch, transformers and the rest are there)


def pinned(name: str) -> str:
    with open(os.path.join(ROOT, "requirements-overlay.txt"), encoding="utf-8") as fh:
        for line in fh:
            if line.split("==")[0].strip().lower() == name:
                return line.split("#")[0].strip()
    raise SystemExit(f"{name} is not pinned in requirements-overlay.txt")


def prepare() -> int:
    """Download the carried wheels (pure Python: one file serves any machine)."""
    import subprocess

    os.makedirs(WHEELS, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", WHEELS,
           *map(pinned, CARRIED)]  # fmt: skip
    return subprocess.call(cmd)


def ensure_carried() -> None:
    """diffusers from bench/.wheels when the machine has none (installed once into bench/.deps)."""
    try:
        import diffusers  # noqa: F401

        return
    except ImportError:
        pass
    import glob
    import subprocess

    wheels = sorted(glob.glob(os.path.join(WHEELS, "*.whl")))
    if not wheels:
        raise SystemExit("diffusers is missing: run `python bench/gpu.py --prepare` where pip reaches PyPI, "
                         "and bring bench/.wheels along")  # fmt: skip
    stamp, wanted = os.path.join(DEPS, ".wheels"), "\n".join(map(os.path.basename, wheels))
    try:
        with open(stamp, encoding="utf-8") as fh:
            current = fh.read() == wanted
    except OSError:
        current = False
    if not current:  # a first run, another pinned version, or an install cut short
        import shutil

        shutil.rmtree(DEPS, ignore_errors=True)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                               "--target", DEPS, *wheels])  # fmt: skip
        with open(stamp, "w", encoding="utf-8") as fh:
            fh.write(wanted)
    sys.path.insert(0, DEPS)


# Official shapes (Wan-AI configs): hidden = heads x 128.
CONFIGS = {
    "1.3b": dict(num_attention_heads=12, attention_head_dim=128, num_layers=30, ffn_dim=8960, in_channels=16,
                 out_channels=16, text_dim=4096),
    "5b": dict(num_attention_heads=24, attention_head_dim=128, num_layers=30, ffn_dim=14336, in_channels=48,
               out_channels=48, text_dim=4096),
    "14b": dict(num_attention_heads=40, attention_head_dim=128, num_layers=40, ffn_dim=13824, in_channels=16,
                out_channels=16, text_dim=4096),
    "smoke": dict(num_attention_heads=2, attention_head_dim=16, num_layers=2, ffn_dim=64, in_channels=16,
                  out_channels=16, text_dim=32),
}  # fmt: skip
COMMON = dict(patch_size=(1, 2, 2), freq_dim=256, cross_attn_norm=True, qk_norm="rms_norm_across_heads")
TEXT_TOKENS = 512


def step_tflop(cfg: dict, tokens: int, text_tokens: int = TEXT_TOKENS) -> float:
    """FLOPs of one CFG step (two passes), from the analytic per-layer count."""
    n, d, f, m = tokens, cfg["num_attention_heads"] * cfg["attention_head_dim"], cfg["ffn_dim"], text_tokens
    per_layer = 8 * n * d * d + 4 * n * n * d + 4 * n * d * d + 4 * m * d * d + 4 * n * m * d + 4 * n * d * f
    return 2 * cfg["num_layers"] * per_layer / 1e12


def build(size: str, device: str, dtype):
    import torch
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    with torch.device(device):
        model = WanTransformer3DModel(**COMMON, **CONFIGS[size], rope_max_seq_len=1024)
    return model.to(dtype).eval()


def latents_for(size: str, frames: int, height: int, width: int, device: str, dtype):
    import torch

    channels = CONFIGS[size]["in_channels"]
    spatial = 16 if size == "5b" else 8
    shape = (1, channels, (frames - 1) // 4 + 1, height // spatial, width // spatial)
    return torch.randn(shape, device=device, dtype=dtype)


def time_step(model, latents, text, repeats: int, sync, guidance: float = 5.0) -> float:
    """Seconds per CFG step (two passes, conditional and unconditional) over real sampling steps:
    each updates the latents by a flow-matching Euler step from the guided prediction, at the next
    timestep of a shifted schedule, as the pipelines sample. The first step is a warm-up."""
    import torch

    steps = repeats + 1
    sigmas = torch.linspace(1.0, 0.0, steps + 1)
    shift = 5.0
    sigmas = shift * sigmas / (1 + (shift - 1) * sigmas)
    latents = latents.clone()
    with torch.no_grad():
        for i in range(steps):
            if i == 1:
                sync()
                start = time.perf_counter()
            t = (sigmas[i] * 1000).reshape(1).to(latents.device)
            out = []
            for name, context in zip(("cond", "uncond"), text):
                with model.cache_context(name):  # as the pipelines do: a step cache keeps one state per branch
                    out.append(model(hidden_states=latents, timestep=t, encoder_hidden_states=context,
                                     return_dict=False)[0])  # fmt: skip
            velocity = out[1] + guidance * (out[0] - out[1])
            latents = latents + (sigmas[i + 1] - sigmas[i]).item() * velocity
        sync()
    return (time.perf_counter() - start) / repeats


UMT5_XXL = dict(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
                relative_attention_num_buckets=32, pad_token_id=0, eos_token_id=1)  # fmt: skip


def whole_pipeline(size: str, dtype, init_device: str = "cpu"):
    """A WanPipeline of random full-size parts (text encoder, transformer, VAE) built in memory,
    with our local tokenizer (its ids are valid for any vocabulary): for whole-clip peaks. The big
    parts are drawn on `init_device` (the GPU draws UMT5-XXL's 5.7B random weights in seconds, the
    CPU in minutes) and handed over on the CPU, where a memory profile starts from."""
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline
    from transformers import UMT5Config, UMT5EncoderModel

    from wan.testing import tiny_models

    torch.manual_seed(0)
    if size == "smoke":
        text_encoder, vae = tiny_models._text_encoder(), tiny_models._vae()
    else:
        with torch.device(init_device):
            text_encoder = UMT5EncoderModel(UMT5Config(**UMT5_XXL)).to(dtype).to("cpu")
        vae = AutoencoderKLWan()
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    transformer = build(size, init_device, dtype).to("cpu")
    return WanPipeline(tokenizer=tiny_models._tokenizer(), text_encoder=text_encoder.eval(),
                       transformer=transformer, vae=vae.to(torch.float32).eval(), scheduler=scheduler)  # fmt: skip


def profile_peaks(size: str, frames: int, width: int, height: int, gpu: bool, clips: int = 5) -> dict:
    """Peak memory of a whole 2-step clip per memory profile, and of a `clips`-clip render with
    'low' against one clip (the wan engine's own placement code)."""
    import torch

    from wan.engine.wan_engine import _place
    from wan.plan.profiles import PROFILES

    dtype = torch.bfloat16 if gpu else torch.float32
    peaks = {}
    for profile in PROFILES if gpu else ("cpu",):
        pipe = whole_pipeline(size, dtype, "cuda" if gpu else "cpu")
        if gpu:
            torch.cuda.empty_cache()  # what the drawing on the GPU left is not the profile's
        pipe.set_progress_bar_config(disable=True)
        if gpu:
            _place(pipe, torch, profile, profile in ("low", "minimal"))
            torch.cuda.reset_peak_memory_stats()
        runs = clips if profile in ("low", "cpu") else 1
        first = None
        for i in range(runs):
            pipe(prompt="a lighthouse at night", height=height, width=width, num_frames=frames, num_inference_steps=2,
                 guidance_scale=5.0, output_type="np")  # fmt: skip
            if i == 0:
                first = torch.cuda.max_memory_allocated() / 2**30 if gpu else None
        row = {"peak_gib_one_clip": round(first, 2) if first is not None else None}
        if runs > 1 and gpu:
            row[f"peak_gib_{runs}_clips"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        row["clips_run"] = runs
        peaks[profile] = row
        del pipe
        if gpu:
            torch.cuda.empty_cache()
    return peaks


def settings_for(device: str) -> list[dict]:
    from diffusers.utils import is_flash_attn_available, is_sageattention_available

    rows = [{"attention": "native"}, {"attention": "native", "cache": "fbc"},
            {"attention": "native", "cache": "taylorseer"}]  # fmt: skip
    if device == "cuda":
        rows.append({"attention": "native", "fp8": True})
        rows.append({"attention": "native", "compile": True})
        rows += (
            [{"attention": "flash"}] if is_flash_attn_available() else [{"attention": "flash", "skip": "not installed"}]
        )
        rows += (
            [{"attention": "sage"}]
            if is_sageattention_available()
            else [{"attention": "sage", "skip": "not installed"}]
        )
    else:
        rows.append({"attention": "native", "compile": True, "skip": "compile is timed on GPUs only"})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="scaled-down config on the CPU")
    parser.add_argument("--sizes", default="1.3b", help="1.3b (default), 5b, 14b, comma-separated")
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-profiles", action="store_true", help="skip the whole-clip peaks per memory profile")
    parser.add_argument("--prepare", action="store_true", help="download the wheels a GPU machine lacks, and stop")
    parser.add_argument("--adherence", metavar="DIR", help="also render the examples guided from DIR ('tiny': random)")
    parser.add_argument("--adherence-steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--only-adherence", action="store_true", help="skip the step timings")
    args = parser.parse_args(argv)
    if args.prepare:
        return prepare()
    ensure_carried()
    import torch
    from diffusers import FirstBlockCacheConfig, TaylorSeerCacheConfig

    from wan.models.speed import WAN_TAYLORSEER_MODULES

    device = "cuda" if torch.cuda.is_available() and not args.smoke else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sizes = ["smoke"] if args.smoke else args.sizes.split(",")
    frames, width, height = (9, 64, 64) if args.smoke else (args.frames, args.width, args.height)
    result = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__,
              "frames": frames, "width": width, "height": height, "dtype": str(dtype).removeprefix("torch."),
              "models": {}}  # fmt: skip
    for size in [] if args.only_adherence else sizes:
        entry = {}
        try:
            latents = latents_for(size, frames, height, width, device, dtype)
            text_dim = CONFIGS[size]["text_dim"]
            text = [torch.randn(1, TEXT_TOKENS, text_dim, device=device, dtype=dtype) for _ in range(2)]
            tokens = latents.shape[2] * (latents.shape[3] // 2) * (latents.shape[4] // 2)
            entry["tokens"] = tokens
            entry["tflop_per_cfg_step"] = float(f"{step_tflop(CONFIGS[size], tokens):.6g}")
            for setting in settings_for(device):
                name = "+".join(f"{k}={v}" for k, v in setting.items() if k != "skip")
                if "skip" in setting:
                    entry[name] = {"skipped": setting["skip"]}
                    continue
                model = build(size, device, dtype)
                if setting["attention"] != "native":
                    model.set_attention_backend(setting["attention"])
                if setting.get("fp8"):
                    model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
                if setting.get("cache") == "fbc":
                    model.enable_cache(FirstBlockCacheConfig(threshold=0.05))
                if setting.get("cache") == "taylorseer":
                    model.enable_cache(TaylorSeerCacheConfig(cache_identifiers=WAN_TAYLORSEER_MODULES))
                if setting.get("compile"):
                    model.compile_repeated_blocks(fullgraph=False)
                if device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                seconds = time_step(model, latents, text, args.repeats, sync)
                row = {"seconds_per_cfg_step": round(seconds, 4),
                       "tflops": float(f"{entry['tflop_per_cfg_step'] / seconds:.6g}")}  # fmt: skip
                if device == "cuda":
                    row["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
                entry[name] = row
                del model
                if device == "cuda":
                    torch.cuda.empty_cache()
            if not args.no_profiles and size in ("smoke", "1.3b"):
                entry["profiles"] = profile_peaks(size, frames, width, height, device == "cuda")
        except torch.OutOfMemoryError as exc:
            entry["skipped"] = f"out of memory: {str(exc).splitlines()[0]}"
        result["models"][size] = entry
    if args.adherence:
        result["adherence"] = guided_renders(args.adherence, args.adherence_steps, args.smoke)
    print(json.dumps(result))
    return 0


def guided_renders(models: str, steps: int | None, smoke: bool) -> dict:
    """Each example rendered in its default guided mode; the manifest's figures."""
    import tempfile

    from movement import load_settings, settings_from_mapping
    from wan.models.discovery import served_models
    from wan.plan.build import PlanOptions, build_plan
    from wan.render.request import RenderOptions
    from wan.render.runner import render

    work = tempfile.mkdtemp(prefix="wan-adherence-")
    if models == "tiny":
        from wan.testing.tiny_models import make_tiny_models

        models = os.path.join(work, "models")
        make_tiny_models(models)
    out = {}
    for name in ("greenhouse_2d.txt", "harbor_3d.txt"):
        settings = load_settings(os.path.join(ROOT, "examples", name))
        if smoke:  # a few clips at a tiny size: the plumbing, in CI's time
            data = json.loads(settings.raw_json)
            data["max_frames"] = 24
            settings = settings_from_mapping(data, source=settings.source)
        size = {"width": 64, "height": 64, "max_clip_frames": 13} if smoke else {}
        plan = build_plan(settings, PlanOptions(available=served_models(models), steps=2 if smoke else steps,
                                                seed=1, **size))  # fmt: skip
        began = time.perf_counter()
        result = render(plan, os.path.join(work, name), RenderOptions(engine="wan", models_dir=models),
                        log=lambda m: None)  # fmt: skip
        with open(result.manifest, encoding="utf-8") as fh:
            manifest = json.load(fh)
        out[name] = {"mode": plan.mode, "model": plan.model, "size": f"{plan.width}x{plan.height}",
                     "clips": len(plan.clips), "seconds": round(time.perf_counter() - began, 1),
                     "depth": manifest.get("depth"), "adherence": manifest["adherence"],
                     "seams": manifest["seams"], "guide_seams": manifest["guide_seams"]}  # fmt: skip
    return out


if __name__ == "__main__":
    sys.exit(main())
