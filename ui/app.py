"""The standalone app: `python -m wan ui` serves the same tab as the WebUI on 127.0.0.1."""

from __future__ import annotations

import argparse
import os

from wan.models.discovery import ENV_MODELS, models_dir


def add_ui_command(commands) -> None:
    p = commands.add_parser(
        "ui",
        help="serve the Wan Weave tab as a standalone app on 127.0.0.1",
        description="The WebUI tab as a standalone app (needs gradio; python3 tools/run.py ui installs it).",
    )
    p.add_argument("--port", type=int, default=7870, help="port (default 7870)")
    p.add_argument("--models", metavar="DIR", help=f"models folder (default: ${ENV_MODELS} or ./models/wan)")
    p.add_argument("--out", metavar="DIR", default="outputs", help="where renders go (default: outputs)")
    p.add_argument("--worker-python", metavar="PY", help="python for the generation worker (default: this one)")
    p.add_argument("--api-auth", metavar="USER:PASS[,USER:PASS]",
                   help="HTTP Basic auth for every route of the app: the page, /wan-weave/v1 and /openapi.json")  # fmt: skip
    p.add_argument("--deforum-dir", action="append", default=[], metavar="DIR",
                   help="folder with Deforum runs for 'Latest Deforum run' (repeatable)")  # fmt: skip
    p.set_defaults(handler=run_ui)


def run_ui(args: argparse.Namespace) -> int:
    try:
        import gradio  # noqa: F401
    except ImportError:
        from ui.errors import AppError

        raise AppError("the app needs gradio", hint="run it with: python3 tools/run.py ui") from None
    from .tab import UIConfig, build_blocks

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    config = UIConfig(models_dir=os.path.abspath(models_dir(args.models)), out_root=out,
                      worker_python=args.worker_python, deforum_roots=[os.path.abspath(d) for d in args.deforum_dir])  # fmt: skip
    blocks = build_blocks(config)
    from wan.jobs.api import QueueRunner, mount

    runner = QueueRunner(out, blocks.wan_weave_worker, config.models_dir)  # the tab's worker: one GPU user
    app_kwargs = {}
    if args.api_auth:  # every route then needs the credentials: the page, gradio's routes, /openapi.json
        from starlette.middleware import Middleware

        from wan.jobs.api import BasicAuthMiddleware, parse_auth

        app_kwargs["middleware"] = [Middleware(BasicAuthMiddleware, users=parse_auth(args.api_auth))]
    try:
        blocks.queue().launch(server_name="127.0.0.1", server_port=args.port, allowed_paths=[out], show_api=False,
                              inbrowser=False, prevent_thread_lock=True, app_kwargs=app_kwargs)  # fmt: skip
        mount(blocks.app, runner, args.api_auth)
        print(f"Wan Weave on http://127.0.0.1:{args.port} (models: {config.models_dir}, outputs: {out}; "
              f"REST API under /wan-weave/v1)", flush=True)  # fmt: skip
        blocks.block_thread()
    finally:
        blocks.wan_weave_worker.close()
    return 0
