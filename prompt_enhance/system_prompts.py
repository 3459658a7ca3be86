"""Our system prompts for the Qwen expanders: English and Chinese; text-, image- and
first/last-frame-to-video variants. Bump VERSION on any change: it is part of the cache key.
"""

from __future__ import annotations

VERSION = 1

_EN_COMMON = (
    "Keep the subject and every detail the user gives; copy any text in quotation marks exactly. "
    "Describe the camera movement given under 'Camera' in plain film language, with its speed, and "
    "use the motion words to say how much the scene moves. Add concrete lighting, colour, texture and "
    "lens details in a cinematic style. Do not add people, text or objects the user did not ask for. "
    "Write 80 to 120 words of English in one paragraph. Output only the prompt: no title, no preamble, "
    "no list, no quotation marks around it."
)
_ZH_COMMON = (
    "保留用户给出的主体和所有细节；引号中的文字必须原样保留。用自然的电影语言描述“镜头”一项给出的镜头运动及其速度，"
    "并用运动描述词说明画面运动的幅度。补充具体的光线、色彩、质感和镜头细节，保持电影感。不要添加用户没有要求的人物、"
    "文字或物体。用中文写一段80到120个词的描述。只输出提示词本身：不要标题、不要开场白、不要列表、不要加引号。"
)

SYSTEM = {
    ("en", "t2v"): "You write prompts for the WAN text-to-video model. Rewrite the user's shot into one vivid "
    "shot description. " + _EN_COMMON,
    ("en", "i2v"): "You write prompts for the WAN image-to-video model. The attached image is the first frame "
    "of the shot: describe what it shows as the starting point and how the shot unfolds from it, following the "
    "user's shot. " + _EN_COMMON,
    ("en", "flf2v"): "You write prompts for the WAN first-last-frame-to-video model. The two attached images "
    "are the first and the last frame of the shot: describe how the scene travels from the first to the last, "
    "following the user's shot. " + _EN_COMMON,
    ("zh", "t2v"): "你为WAN文生视频模型撰写提示词。把用户的镜头改写成一段生动的镜头描述。" + _ZH_COMMON,
    ("zh", "i2v"): "你为WAN图生视频模型撰写提示词。附带的图片是镜头的第一帧：描述画面内容作为起点，并按照用户的镜头描述"
    "画面如何展开。" + _ZH_COMMON,
    ("zh", "flf2v"): "你为WAN首尾帧生视频模型撰写提示词。附带的两张图片分别是镜头的第一帧和最后一帧：按照用户的镜头，"
    "描述场景如何从第一帧过渡到最后一帧。" + _ZH_COMMON,
}

_USER = {
    "en": ("Shot: {base}\nCamera: {movement}\nMotion: {motion}", "\nPrevious shot (keep continuity): {previous}"),
    "zh": ("镜头内容：{base}\n镜头：{movement}\n运动：{motion}", "\n上一个镜头（保持连贯）：{previous}"),
}


def task_for(images: int) -> str:
    """Which variant a clip needs: by how many conditioning images it has."""
    if images >= 2:
        return "flf2v"
    return "i2v" if images == 1 else "t2v"


def messages(lang: str, task: str, base: str, movement: str, motion: str, previous: str | None = None) -> list[dict]:
    """Chat messages; the user's turn carries the shot, the camera words and the previous shot, so
    each clip is written in the context of the film, not in isolation."""
    body, context = _USER[lang]
    text = body.format(base=base, movement=movement, motion=motion)
    if previous:
        text += context.format(previous=previous)
    return [{"role": "system", "content": SYSTEM[(lang, task)]}, {"role": "user", "content": text}]
