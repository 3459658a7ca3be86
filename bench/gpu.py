"""Benchmark: WAN denoising speed and memory, with full-size random-weight transformers.

    python bench/gpu.py                # on a GPU: 1.3B (and 5B, 14B where memory allows)
    python bench/gpu.py --smoke        # a scaled-down config on the CPU (CI runs this)

Builds WanTransformer3DModel from the official configs' shapes (random weights: speed and memory
do not depend on the values), and times one denoising step with CFG (two passes) at 832x480x81
(32,760 tokens) in bf16 for each attention backend / compile / step-cache setting; reports the
achieved TFLOP/s from the analytic count (per pass: 30 layers x (8ND^2 + 4N^2D + 4ND^2 + 4MD^2 +
4NMD + 4NDF) for the 1.3B), and the peak memory of a whole step per memory profile. Prints one JSON
object. Targets (H100): <= 0.75 s per CFG step for the 1.3B.
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
        except torch.OutOfMemoryError as exc:
            entry["skipped"] = f"out of memory: {str(exc).splitlines()[0]}"
        result["models"][size] = entry
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
