"""The tiny Qwen models from make-tiny-models load with transformers' Auto classes, as real ones do."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def llm(tiny_models):
    return tiny_models / "LLM"


def test_tiny_qwen2_chats_in_chatml_and_generates(llm):
    tokenizer = transformers.AutoTokenizer.from_pretrained(llm / "qwen2-tiny")
    model = transformers.AutoModelForCausalLM.from_pretrained(llm / "qwen2-tiny")
    messages = [{"role": "system", "content": "short"}, {"role": "user", "content": "灯塔 at night"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert (
        text
        == "<|im_start|>system\nshort<|im_end|>\n<|im_start|>user\n灯塔 at night<|im_end|>\n<|im_start|>assistant\n"
    )
    ids = tokenizer(text, return_tensors="pt").input_ids
    assert tokenizer.decode(ids[0]) == text  # byte-level: any text round-trips, Chinese included
    out = model.generate(ids, max_new_tokens=6, do_sample=False)
    assert out.shape == (1, ids.shape[1] + 6) or int(out[0, -1]) == tokenizer.eos_token_id


def test_tiny_qwen2_5_vl_sees_the_image(llm):
    from PIL import Image

    folder = llm / "qwen2.5-vl-tiny"
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    images = transformers.AutoImageProcessor.from_pretrained(folder)
    model = transformers.AutoModelForImageTextToText.from_pretrained(folder)
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "describe"}]}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert "<|vision_start|><|image_pad|><|vision_end|>describe" in text

    def logits(pixels: np.ndarray):
        vision = images(images=[Image.fromarray(pixels)], return_tensors="pt")
        pads = int(vision["image_grid_thw"][0].prod()) // 4  # one token per 2x2 merged patch
        ids = tokenizer([text.replace("<|image_pad|>", "<|image_pad|>" * pads)], return_tensors="pt")
        with torch.no_grad():
            return model(**ids, **vision).logits[0, -1]

    dark, light = np.zeros((90, 120, 3), np.uint8), np.full((90, 120, 3), 230, np.uint8)
    assert not torch.allclose(logits(dark), logits(light))  # the pixels reach the language model
    assert torch.allclose(logits(dark), logits(dark))
