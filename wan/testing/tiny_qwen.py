"""Tiny random-weight Qwen models for the prompt-enhancement tests: a Qwen2 causal LM and a
Qwen2.5-VL, saved with transformers' own `save_pretrained` in the real layout, so loading them runs
the same code as a downloaded Qwen2.5-Instruct / Qwen2.5-VL folder.

The tokenizer is built here (no hub): byte-level BPE without merges, so it encodes any text
(Chinese included) and decodes it back exactly, plus Qwen's special tokens and a ChatML chat
template of the same shape as Qwen's (`<|im_start|>role ... <|im_end|>`, images as
`<|vision_start|><|image_pad|><|vision_end|>`).
"""

from __future__ import annotations

import os

SPECIAL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
           "<|video_pad|>")  # fmt: skip

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or 'image' in part %}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def tiny_qwen_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={ch: i for i, ch in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(SPECIAL[1:]),
        model_max_length=4096,
    )
    tokenizer.add_special_tokens({"pad_token": "<|endoftext|>"})
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _text_config(tokenizer) -> dict:
    return dict(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=4096, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=None, tie_word_embeddings=True,
    )  # fmt: skip


def make_tiny_qwen2(folder: str, seed: int = 0) -> str:
    """A Qwen2.5-Instruct-shaped causal LM (2 layers, hidden 32)."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tokenizer = tiny_qwen_tokenizer()
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(Qwen2Config(**_text_config(tokenizer)))
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_tiny_qwen2_5_vl(folder: str, seed: int = 0) -> str:
    """A Qwen2.5-VL-shaped model: a 2-block vision tower (14-pixel patches, 2x2 merge) feeding a
    2-layer language model, with its image processor and tokenizer (chat template included)."""
    import torch
    from transformers import (
        GenerationConfig,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLImageProcessor,
    )

    tokenizer = tiny_qwen_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL}
    vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=4, out_hidden_size=32, patch_size=14,
                  spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1])  # fmt: skip
    config = Qwen2_5_VLConfig(
        text_config={
            **_text_config(tokenizer),
            "rope_parameters": {"rope_type": "default", "mrope_section": [2, 1, 1]},
        },
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    # Few pixels: a 112x112 image is 8x8 patches, 16 tokens after the 2x2 merge.
    # The parts of Qwen's processor, saved one by one: transformers 5 will not build the processor
    # without a video processor, and that needs torchvision (no CPU build of it exists here).
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    Qwen2VLImageProcessor(min_pixels=56 * 56, max_pixels=112 * 112).save_pretrained(folder)
    return folder


TINY_QWEN = {"qwen2-tiny": make_tiny_qwen2, "qwen2.5-vl-tiny": make_tiny_qwen2_5_vl}


def make_tiny_qwen(root: str) -> dict[str, str]:
    """Write both under `root/LLM/` (where Wan Weave looks for Qwen models); name -> folder."""
    llm = os.path.join(root, "LLM")
    os.makedirs(llm, exist_ok=True)
    return {name: make(os.path.join(llm, name)) for name, make in TINY_QWEN.items()}
