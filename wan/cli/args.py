"""Argument shapes several commands share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def settings_command(
    commands: Any, name: str, help: str, description: str, handler: Callable, json_help: str = "print one JSON object"
) -> argparse.ArgumentParser:
    """A subcommand that reads one Deforum settings file and can answer in JSON."""
    parser = commands.add_parser(name, help=help, description=description)
    parser.add_argument("settings", metavar="SETTINGS", help="Deforum settings file (.txt or .json)")
    parser.add_argument("--json", action="store_true", help=json_help)
    parser.set_defaults(handler=handler)
    return parser
