"""Benchmark: WAN denoising speed and memory, with full-size random-weight transformers.

    python bench/gpu.py                # on a GPU: 1.3B (and 5B, 14B where memory allows)
    python bench/gpu.py --smoke        # a scaled-down config on the CPU (CI runs this)

Builds WanTransformer3DModel from the official configs' shapes (random weights: speed and memory
do not depend on the values), and times one denoising step with CFG (two passes) at 832x480x81
(32,760 tokens) in bf16 for each attention backend / compile / step-cache setting; reports the
achieved TFLOP/s from the analytic count (per pass: 30 layers x (8ND^2 + 4N^2D + 4ND^2 + 4MD^2 +
4NMD + 4NDF) for the 1.3B), the peak memory of each setting, and for the 1.3B the peak of a whole
2-step clip (UMT5-XXL text encoder + transformer + VAE decode) per memory profile, and of a 5-clip
run with 'low'. Prints one JSON object. Targets (H100): <= 0.75 s per CFG step for the 1.3B;
1.3B peak <= 7 GB with 'low'; 5 clips' peak within 5% of one clip's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

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


def time_step(model, latents, text, repeats: int, sync) -> float:
    """Seconds per CFG step: two passes (conditional, unconditional), after a warm-up step."""
    import torch

    t = torch.tensor([500], device=latents.device)
    with torch.no_grad():
        for i in range(repeats + 1):
            if i == 1:
                sync()
                start = time.perf_counter()
            for name, context in zip(("cond", "uncond"), text):
                with model.cache_context(name):  # as the pipelines do: a step cache keeps one state per branch
                    model(hidden_states=latents, timestep=t, encoder_hidden_states=context, return_dict=False)
            t = t - 10  # a new timestep each step, as in sampling (caches compare steps)
        sync()
    return (time.perf_counter() - start) / repeats


UMT5_XXL = dict(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
                relative_attention_num_buckets=32, pad_token_id=0, eos_token_id=1)  # fmt: skip


def whole_pipeline(size: str, dtype):
    """A WanPipeline of random full-size parts (text encoder, transformer, VAE) built in memory,
    with our local tokenizer (its ids are valid for any vocabulary): for whole-clip peaks."""
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline
    from transformers import UMT5Config, UMT5EncoderModel

    from wan.testing import tiny_models

    torch.manual_seed(0)
    if size == "smoke":
        text_encoder, vae = tiny_models._text_encoder(), tiny_models._vae()
    else:
        text_encoder, vae = UMT5EncoderModel(UMT5Config(**UMT5_XXL)).to(dtype), AutoencoderKLWan()
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    return WanPipeline(tokenizer=tiny_models._tokenizer(), text_encoder=text_encoder.eval(),
                       transformer=build(size, "cpu", dtype), vae=vae.to(torch.float32).eval(), scheduler=scheduler)  # fmt: skip


def profile_peaks(size: str, frames: int, width: int, height: int, gpu: bool, clips: int = 5) -> dict:
    """Peak memory of a whole 2-step clip per memory profile, and of a `clips`-clip render with
    'low' against one clip (the wan engine's own placement code)."""
    import torch

    from wan.engine.wan_engine import _place
    from wan.plan.profiles import PROFILES

    dtype = torch.bfloat16 if gpu else torch.float32
    peaks = {}
    for profile in PROFILES if gpu else ("cpu",):
        pipe = whole_pipeline(size, dtype)
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

    rows = [{"attention": "native"}, {"attention": "native", "cache": "fbc"}]
    if device == "cuda":
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
    parser.add_argument("--sizes", default="1.3b,5b,14b")
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-profiles", action="store_true", help="skip the whole-clip peaks per memory profile")
    args = parser.parse_args(argv)
    import torch
    from diffusers import FirstBlockCacheConfig

    device = "cuda" if torch.cuda.is_available() and not args.smoke else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    sizes = ["smoke"] if args.smoke else args.sizes.split(",")
    frames, width, height = (9, 64, 64) if args.smoke else (args.frames, args.width, args.height)
    result = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__,
              "frames": frames, "width": width, "height": height, "dtype": str(dtype).removeprefix("torch."),
              "models": {}}  # fmt: skip
    for size in sizes:
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
                if setting.get("cache") == "fbc":
                    model.enable_cache(FirstBlockCacheConfig(threshold=0.05))
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
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
