"""`python -m wan <command>`: one command line for every job.

Bad input is a WanWeaveError: one line on stderr, no traceback, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from movement.errors import WanWeaveError
from ui.app import add_ui_command
from wan import __version__
from wan.cli.adherence import add_adherence_command
from wan.cli.batch import add_batch_commands
from wan.cli.continuity import add_continuity_commands
from wan.cli.enhance import add_enhance_command, add_storyboard_command
from wan.cli.errors import UsageError
from wan.cli.keyframes import add_keyframes_command
from wan.cli.models import add_model_commands
from wan.cli.movement import add_movement_commands
from wan.cli.plan import add_plan_commands
from wan.cli.post import add_post_command
from wan.jobs.worker import add_worker_command

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of argparse's usage dump
        raise UsageError(message, where=self.prog, hint=f"see '{self.prog} --help'")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m wan",
        description="Wan Weave: read Deforum settings, describe the camera, render WAN videos.",
    )
    parser.add_argument("--version", action="version", version=f"wan-weave {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    add_movement_commands(commands)
    add_plan_commands(commands)
    add_enhance_command(commands)
    add_continuity_commands(commands)
    add_adherence_command(commands)
    add_batch_commands(commands)
    add_storyboard_command(commands)
    add_keyframes_command(commands)
    add_post_command(commands)
    add_worker_command(commands)
    add_ui_command(commands)
    add_model_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.handler(args) or 0)
    except WanWeaveError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
