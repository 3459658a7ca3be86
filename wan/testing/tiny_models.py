"""Tiny random-weight WAN models in the real on-disk layout, for running every path without weights.

`python -m wan make-tiny-models DIR` writes them with diffusers' own `save_pretrained`, so loading
them exercises the same `from_pretrained` code as a real download (and a tiny Depth Anything depth
model for the 3D camera guide, with transformers'). The tokenizer is built locally
(a word-level vocabulary): nothing is fetched from a hub.
"""

from __future__ import annotations

import os

TINY_WORDS = (
    "a an the of and in on at with to from over under through while camera slow fast smooth pan tilt "
    "dolly zoom truck rise roll left right up down in out lighthouse harbour sea sky night storm rain "
    "light boat boats garden greenhouse flowers door red blue green cinematic film still detailed"
).split()


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in TINY_WORDS:
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=64
    )


def _text_encoder():
    from transformers import UMT5Config, UMT5EncoderModel

    config = UMT5Config(
        vocab_size=64, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
    )  # fmt: skip
    return UMT5EncoderModel(config)


def _transformer(in_channels: int = 16, out_channels: int = 16, **extra):
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=in_channels,
        out_channels=out_channels, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=32, **extra,
    )  # fmt: skip


def _vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])  # fmt: skip


def _scheduler(shift: float):
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, num_train_timesteps=1000, flow_shift=shift
    )


def _save(folder: str, seed: int, pipeline: str, shift: float, parts) -> str:
    """Seed, build the family's own parts plus the shared ones, and save in the diffusers layout."""
    import diffusers
    import torch

    torch.manual_seed(seed)
    own = parts()
    shared = {"tokenizer": _tokenizer(), "text_encoder": _text_encoder(), "scheduler": _scheduler(shift)}
    shared["vae"] = own.pop("vae") if "vae" in own else _vae()
    getattr(diffusers, pipeline)(**shared, **own).save_pretrained(folder)
    return folder


def _image_encoder():
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    config = CLIPVisionConfig(hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2,
                              image_size=32, intermediate_size=16, patch_size=1)  # fmt: skip
    return CLIPVisionModel(config), CLIPImageProcessor(crop_size=32, size=32)


def make_tiny_t2v(folder: str, seed: int = 0) -> str:
    """Wan 2.1 T2V-shaped: 2-layer transformer, small VAE, small UMT5, local tokenizer."""
    return _save(folder, seed, "WanPipeline", 3.0, lambda: {"transformer": _transformer()})


def make_tiny_i2v(folder: str, seed: int = 0) -> str:
    """Wan 2.1 I2V-shaped: 36 input channels (latents, mask, image) and a tiny CLIP vision tower."""

    def parts():
        encoder, processor = _image_encoder()
        transformer = _transformer(in_channels=36, image_dim=4)
        return {"image_encoder": encoder, "image_processor": processor, "transformer": transformer}

    return _save(folder, seed, "WanImageToVideoPipeline", 3.0, parts)


def make_tiny_vace(folder: str, seed: int = 0) -> str:
    """Wan 2.1 VACE-shaped: a 3-layer transformer with VACE blocks on layers 0 and 2."""

    def parts():
        from diffusers import WanVACETransformer3DModel

        return {
            "transformer": WanVACETransformer3DModel(
                patch_size=(1, 2, 2),
                num_attention_heads=2,
                attention_head_dim=12,
                in_channels=16,
                out_channels=16,
                text_dim=32,
                freq_dim=256,
                ffn_dim=32,
                num_layers=3,
                cross_attn_norm=True,
                qk_norm="rms_norm_across_heads",
                rope_max_seq_len=32,
                vace_layers=[0, 2],
                vace_in_channels=96,
            )
        }

    return _save(folder, seed, "WanVACEPipeline", 3.0, parts)


def make_tiny_ti2v(folder: str, seed: int = 0) -> str:
    """Wan 2.2 TI2V-5B-shaped: 48 latent channels, a residual VAE that packs 2x2 pixels (16x spatial
    compression), and `expand_timesteps` (per-token timesteps)."""

    def parts():
        from diffusers import AutoencoderKLWan

        vae = AutoencoderKLWan(
            base_dim=12, z_dim=48, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True],
            is_residual=True, in_channels=12, out_channels=12, patch_size=2, scale_factor_spatial=16,
            latents_mean=[0.0] * 48, latents_std=[1.0] * 48,
        )  # fmt: skip
        return {"vae": vae, "transformer": _transformer(in_channels=48, out_channels=48), "expand_timesteps": True}

    return _save(folder, seed, "WanPipeline", 5.0, parts)


def make_tiny_t2v_a14b(folder: str, seed: int = 0) -> str:
    """Wan 2.2 T2V-A14B-shaped: two experts switching at boundary_ratio 0.875."""
    return _save(
        folder, seed, "WanPipeline", 12.0,
        lambda: {"transformer": _transformer(), "transformer_2": _transformer(), "boundary_ratio": 0.875},
    )  # fmt: skip


def make_tiny_i2v_a14b(folder: str, seed: int = 0) -> str:
    """Wan 2.2 I2V-A14B-shaped: two 36-channel experts (boundary 0.9), no CLIP encoder."""
    return _save(
        folder, seed, "WanImageToVideoPipeline", 5.0,
        lambda: {"transformer": _transformer(in_channels=36), "transformer_2": _transformer(in_channels=36),
                 "boundary_ratio": 0.9},
    )  # fmt: skip


def make_tiny_flf2v(folder: str, seed: int = 0) -> str:
    """Wan 2.1 FLF2V-shaped: the I2V shape with positions for two images' tokens (first and last)."""

    def parts():
        encoder, processor = _image_encoder()
        tokens_per_image = 32 * 32 + 1  # the tiny CLIP's patches plus its class token
        transformer = _transformer(in_channels=36, image_dim=4, pos_embed_seq_len=2 * tokens_per_image)
        return {"image_encoder": encoder, "image_processor": processor, "transformer": transformer}

    return _save(folder, seed, "WanImageToVideoPipeline", 16.0, parts)


TINY_MODELS = {
    "wan2.1-t2v-tiny": make_tiny_t2v,
    "wan2.1-i2v-tiny": make_tiny_i2v,
    "wan2.1-vace-tiny": make_tiny_vace,
    "wan2.1-flf2v-tiny": make_tiny_flf2v,
    "wan2.2-ti2v-5b-tiny": make_tiny_ti2v,
    "wan2.2-t2v-a14b-tiny": make_tiny_t2v_a14b,
    "wan2.2-i2v-a14b-tiny": make_tiny_i2v_a14b,
}


TINY_DEPTH = "depth-anything-tiny"


def make_tiny_depth(folder: str, seed: int = 0) -> str:
    """A Depth-Anything-V2-Small-shaped depth model (model_type depth_anything, relative depth) over a
    4-layer, 32-wide Dinov2 backbone, with the same DPT image processor settings as the real one
    (ImageNet normalisation, aspect kept, multiples of 14) at a 56-pixel short side instead of 518.
    The neck and head get PyTorch's default init and the last bias 1, so the prediction is positive
    and varies over the image (transformers' 0.02 init gives ~1e-8, mostly zero after the ReLU)."""
    import torch
    import transformers
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    backbone = Dinov2Config(
        hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, image_size=56,
        patch_size=14, out_indices=[1, 2, 3, 4], reshape_hidden_states=False, apply_layernorm=True,
    )  # fmt: skip
    config = DepthAnythingConfig(
        backbone_config=backbone, patch_size=14, reassemble_hidden_size=32, neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16, head_hidden_size=8, depth_estimation_type="relative",
    )  # fmt: skip
    torch.manual_seed(seed)
    model = DepthAnythingForDepthEstimation(config).eval()
    for module in [*model.neck.modules(), *model.head.modules()]:
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            module.reset_parameters()
    with torch.no_grad():
        model.head.conv3.bias.fill_(1.0)
    # transformers 5 without torchvision names the PIL processor DPTImageProcessorPil; both save as
    # "DPTImageProcessor", as Depth-Anything-V2-Small-hf's preprocessor_config.json says.
    processor_class = getattr(transformers, "DPTImageProcessorPil", None) or transformers.DPTImageProcessor
    processor = processor_class(
        do_resize=True, size={"height": 56, "width": 56}, keep_aspect_ratio=True, ensure_multiple_of=14,
        resample=3, do_rescale=True, do_normalize=True, image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225], do_pad=False,
    )  # fmt: skip
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def make_tiny_models(root: str) -> dict[str, str]:
    """Write every tiny WAN model under `root`, the tiny Qwen models under `root/LLM`, the tiny
    depth model under `root/depth` and the tiny upscaler under
    `root/upscale`; returns name -> folder (or file)."""
    from wan.testing.tiny_qwen import make_tiny_qwen
    from wan.testing.tiny_upscaler import make_tiny_upscalers

    os.makedirs(root, exist_ok=True)
    written = {name: make(os.path.join(root, name)) for name, make in TINY_MODELS.items()}
    depth = {TINY_DEPTH: make_tiny_depth(os.path.join(root, "depth", TINY_DEPTH))}
    return {**written, **make_tiny_qwen(root), **depth, **make_tiny_upscalers(root)}


# diffusers' names -> the original Wan release's, the inverse of diffusers' single-file conversion,
# so the tiny single files exercise that conversion as a real checkpoint does. Order matters: the
# norm2/norm3 swap goes through a placeholder, as diffusers' does.
_TO_WAN = (
    ("condition_embedder.time_embedder.linear_1", "time_embedding.0"),
    ("condition_embedder.time_embedder.linear_2", "time_embedding.2"),
    ("condition_embedder.text_embedder.linear_1", "text_embedding.0"),
    ("condition_embedder.text_embedder.linear_2", "text_embedding.2"),
    ("condition_embedder.time_proj", "time_projection.1"),
    ("condition_embedder.image_embedder.norm1", "img_emb.proj.0"),
    ("condition_embedder.image_embedder.ff.net.0.proj", "img_emb.proj.1"),
    ("condition_embedder.image_embedder.ff.net.2", "img_emb.proj.3"),
    ("condition_embedder.image_embedder.norm2", "img_emb.proj.4"),
    ("condition_embedder.image_embedder.pos_embed", "img_emb.emb_pos"),
    (".proj_in.", ".before_proj."),
    ("attn1", "self_attn"),
    ("attn2", "cross_attn"),
    (".to_out.0.", ".o."),
    (".to_q.", ".q."),
    (".to_k.", ".k."),
    (".to_v.", ".v."),
    (".add_k_proj.", ".k_img."),
    (".add_v_proj.", ".v_img."),
    (".norm_added_k.", ".norm_k_img."),
    ("ffn.net.0.proj", "ffn.0"),
    ("ffn.net.2", "ffn.2"),
    ("norm2", "norm__swap"),
    ("norm3", "norm2"),
    ("norm__swap", "norm3"),
)


def wan_key(name: str) -> str:
    """The original Wan name of a diffusers WanTransformer3DModel / WanVACETransformer3DModel tensor."""
    if name == "scale_shift_table":
        return "head.modulation"
    if name.startswith("proj_out."):
        return "head.head." + name.removeprefix("proj_out.")
    if name.startswith("vace_blocks.") and ".proj_out." in name:
        return name.replace(".proj_out.", ".after_proj.")
    name = name.replace("scale_shift_table", "modulation")
    for diffusers_name, wan_name in _TO_WAN:
        name = name.replace(diffusers_name, wan_name)
    return name


def save_single_file(folder: str, subfolder: str, path: str, seed: int = 1) -> str:
    """A single-file transformer in the original Wan layout (ComfyUI's `model.diffusion_model.`
    prefix), shaped like `folder`'s but with other random weights: loading it must give these."""
    import diffusers
    import torch
    from safetensors.torch import save_file

    config = diffusers.WanTransformer3DModel.load_config(os.path.join(folder, subfolder))
    cls = getattr(diffusers, config["_class_name"])
    torch.manual_seed(seed)
    model = cls.from_config(config)
    state = {f"model.diffusion_model.{wan_key(k)}": v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, path)
    return path


def make_tiny_single_files(root: str) -> dict[str, str]:
    """Single-file transformers under `root/single/` in the original Wan layout, like the files
    people download: a Wan 2.1 T2V fine-tune and a Wan 2.2 T2V-A14B expert pair. They complete
    themselves from the tiny folders under `root` (make_tiny_models first)."""
    folder = os.path.join(root, "single")
    os.makedirs(folder, exist_ok=True)
    t2v, a14b = os.path.join(root, "wan2.1-t2v-tiny"), os.path.join(root, "wan2.2-t2v-a14b-tiny")
    return {
        "wan2.1-t2v-tiny": save_single_file(
            t2v, "transformer", os.path.join(folder, "wan2.1_t2v_tiny_finetune.safetensors"), 11
        ),
        "wan2.2-t2v-a14b-tiny high_noise": save_single_file(
            a14b, "transformer", os.path.join(folder, "wan2.2_t2v_tiny_high_noise.safetensors"), 12
        ),
        "wan2.2-t2v-a14b-tiny low_noise": save_single_file(
            a14b, "transformer_2", os.path.join(folder, "wan2.2_t2v_tiny_low_noise.safetensors"), 13
        ),
    }
