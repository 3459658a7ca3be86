"""A local Qwen model that answers chat messages (imperative shell: torch and transformers).

Text models load with AutoModelForCausalLM + AutoTokenizer. Qwen2.5-VL loads with
AutoModelForImageTextToText; its inputs are built from the folder's image processor and tokenizer:
the image processor resizes each image within its min/max pixels (the same smart_resize that
qwen-vl-utils applies) and gives `pixel_values` and the patch grid, and each `<|image_pad|>` in the
chat text becomes one token per merged patch, as Qwen's processor does. We do not go through
qwen-vl-utils or AutoProcessor: both need torchvision (qwen-vl-utils imports it at import time),
which CPU-only machines and some WebUI installs lack.

Decoding is greedy, so one model gives one answer for one input (deterministic; the cache relies
on it). Loaded once for all clips of a render; `unload()` gives the memory back to WAN.
"""

from __future__ import annotations

import gc
import json
import os

import numpy as np

from .models import EnhancerError, QwenModel, choose, discover, llm_dir, resolve

MAX_NEW_TOKENS = 320


class QwenChat:
    def __init__(self, model: QwenModel, log=print):
        self.info = model
        self.log = log
        self.model = None
        self.tokenizer = None
        self.images = None  # the image processor, for vision-language models

    def load(self) -> None:
        if self.model is not None:
            return
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise EnhancerError(
                f"prompt enhancement with Qwen needs torch and transformers ({exc.name} is missing)",
                hint="pip install -r requirements-worker.txt, or use --enhance template",
            ) from None
        gpu = torch.cuda.is_available()
        dtype = torch.bfloat16 if gpu else torch.float32
        path = self.info.path
        self.log(f"loading {self.info.name} from {path} on {'cuda' if gpu else 'cpu'}")
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            if self.info.vision:
                self.images = transformers.AutoImageProcessor.from_pretrained(path)
                auto = transformers.AutoModelForImageTextToText
            else:
                auto = transformers.AutoModelForCausalLM
            self.model = auto.from_pretrained(path, dtype=dtype).to("cuda" if gpu else "cpu").eval()
        except (OSError, ValueError) as exc:
            raise EnhancerError(f"cannot load the Qwen model: {exc}", where=path) from None
        if not self.tokenizer.chat_template:
            self.tokenizer.chat_template = _folder_chat_template(path)

    def unload(self) -> None:
        """Free the model (and the GPU memory it held) before WAN loads."""
        self.model = self.tokenizer = self.images = None
        gc.collect()
        import sys

        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def answer(self, messages: list[dict], images: list[np.ndarray] = ()) -> str:
        import torch

        self.load()
        text, extra = self.model_input(messages, images)
        inputs = self.tokenizer([text], return_tensors="pt").to(self.model.device)
        with torch.no_grad():
            out = self.model.generate(
                **inputs, **extra, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, repetition_penalty=1.05
            )
        return self.tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)

    def model_input(self, messages: list[dict], images: list[np.ndarray] = ()) -> tuple[str, dict]:
        """What reaches the model: the chat-templated text and, for a vision model, the image
        tensors (pixel_values, image_grid_thw) on the model's device."""
        images = list(images) if self.info.vision else []
        if images:
            messages = _with_images(messages, len(images))
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, enable_thinking=False
        )
        extra = {}
        if images:
            from PIL import Image

            vision = self.images(images=[Image.fromarray(i) for i in images], return_tensors="pt")
            merge = int(getattr(self.images, "merge_size", 2)) ** 2
            for grid in vision["image_grid_thw"]:
                # One pad per merged patch, image by image, as Qwen's processor expands them.
                text = text.replace("<|image_pad|>", "<|placeholder|>" * (int(grid.prod()) // merge), 1)
            text = text.replace("<|placeholder|>", "<|image_pad|>")
            extra = {k: v.to(self.model.device) for k, v in vision.items()}
        return text, extra


def _with_images(messages: list[dict], count: int) -> list[dict]:
    """The user's turn with the images in front of its text (Qwen-VL's content parts)."""
    out = []
    for m in messages:
        if m["role"] == "user":
            m = {"role": "user", "content": [{"type": "image"}] * count + [{"type": "text", "text": m["content"]}]}
        out.append(m)
    return out


def _folder_chat_template(path: str) -> str:
    """Qwen-VL folders keep the template beside the processor, not in the tokenizer config."""
    for name in ("chat_template.jinja", "chat_template.json"):
        file = os.path.join(path, name)
        if os.path.isfile(file):
            with open(file, encoding="utf-8") as fh:
                return json.load(fh)["chat_template"] if name.endswith(".json") else fh.read()
    raise EnhancerError("the model has no chat template", where=path, hint="use an instruct (chat) model")


def free_memory_gb() -> tuple[float, bool]:
    """(free GB, on a GPU?): free VRAM with CUDA, else available RAM."""
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.mem_get_info()[0] / 2**30, True
    except ImportError:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20, False
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, False


def open_chat(spec: str, models_root: str, want_vision: bool, log=print) -> tuple[QwenChat | None, str]:
    """The chat model for `--enhance`/`--model` SPEC (auto, template, a name or a folder), not yet
    loaded, and why it was chosen; None means the template."""
    if spec == "template":
        return None, "template asked for"
    if spec != "auto":
        model = resolve(spec, models_root)
        return QwenChat(model, log), f"{model.name} asked for"
    found = discover(models_root)
    if not found:
        return None, f"no Qwen model under {llm_dir(models_root)}"
    free, gpu = free_memory_gb()
    model, reason = choose(found, free, gpu, want_vision)
    return QwenChat(model, log), reason
