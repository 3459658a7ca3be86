"""The prompt step of a render: each clip's prompt written by a local Qwen model or the template
(prompt_enhance/), with the images the render already read."""

from __future__ import annotations

from wan.engine.assets import NO_ASSETS, RenderAssets
from wan.plan.build import GenerationPlan


def enhance(plan: GenerationPlan, spec: str, models_root: str, cache_dir: str | None, lang: str | None, log,
            assets: RenderAssets = NO_ASSETS):  # fmt: skip
    """(plan with enhanced prompts, [ClipPrompt], model name or None, why that model)."""
    from prompt_enhance.cache import PromptCache
    from prompt_enhance.enhance import apply, clip_images, enhance_plan
    from prompt_enhance.qwen import open_chat

    images = clip_images(plan, assets.init_image, assets.keyframes) if spec != "template" else {}
    chat, reason = open_chat(spec, models_root, bool(images), log)
    cache = PromptCache(cache_dir)
    try:
        prompts = enhance_plan(plan, chat, cache, images, lang, log)
    finally:
        if chat is not None:
            chat.unload()  # WAN gets the memory back before it loads
    return apply(plan, prompts), prompts, (chat.info.name if chat else None), reason
