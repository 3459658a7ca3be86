"""Deforum settings, schedules, prompts and camera movement: the pure core (numpy only)."""

from .errors import ExpressionError, SettingsError, WanWeaveError
from .expr import compile_expression
from .keyframes import evaluate_schedule, parse_keyframes
from .motion import MovementAnalysis, Segment, analyze, camera_rates, describe_range
from .prompts import PromptSchedule, build_prompt_schedule
from .series import Schedules, build_schedules
from .settings import DeforumSettings, load_settings, settings_from_mapping, settings_from_text
from .vocabulary import MOVEMENT_TYPES

__all__ = [
    "MOVEMENT_TYPES",
    "DeforumSettings",
    "ExpressionError",
    "MovementAnalysis",
    "PromptSchedule",
    "Schedules",
    "Segment",
    "SettingsError",
    "WanWeaveError",
    "analyze",
    "build_prompt_schedule",
    "build_schedules",
    "camera_rates",
    "compile_expression",
    "describe_range",
    "evaluate_schedule",
    "load_settings",
    "parse_keyframes",
    "settings_from_mapping",
    "settings_from_text",
]
