"""The `batch`, `resume` and `queue` commands."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from wan.media.video import PRESETS
from wan.models.discovery import ENV_MODELS
from wan.plan.profiles import PROFILES
from wan.render.request import ENGINES


def add_batch_commands(commands: Any) -> None:
    from wan.cli.plan import PLAN_FLAGS, add_plan_options

    batch = commands.add_parser(
        "batch",
        help="render many settings files through a persistent queue (survives crashes; see resume)",
        description="Queue settings files (files, folders, glob patterns) in OUT/queue.sqlite and render them one "
        "after another into OUT/<name>. Run it again, or `resume OUT`, after a crash: finished clips are kept.",
    )
    batch.add_argument("inputs", nargs="+", metavar="FILES|GLOB|DIR")
    batch.add_argument("--out", required=True, metavar="DIR", help="output root (holds the queue)")
    batch.add_argument("--engine", choices=ENGINES, default="wan")
    batch.add_argument("--models", metavar="DIR", help=f"models folder (default: ${ENV_MODELS} or ./models/wan)")
    batch.add_argument("--weights", metavar="PATH", help="an explicit folder or single-file transformer")
    batch.add_argument("--profile", choices=("auto", *PROFILES), default="auto")
    batch.add_argument("--crf", type=int, default=18)
    batch.add_argument("--preset", choices=PRESETS, default="medium")
    batch.add_argument("--allow-lower-resolution", action="store_true",
                       help="after running out of GPU memory, a lower resolution may be tried")  # fmt: skip
    batch.add_argument("--no-run", action="store_true", help="only queue the files")
    add_plan_options(batch)
    batch.set_defaults(handler=run_batch, plan_flags=PLAN_FLAGS)

    resume = commands.add_parser(
        "resume",
        help="finish an interrupted render or queue, reusing every intact finished clip",
        description="DIR is a queue root (queue.sqlite) or one render's folder (plan.json, manifest.json).",
    )
    resume.add_argument("dir", metavar="DIR")
    resume.set_defaults(handler=run_resume)

    queue = commands.add_parser("queue", help="list the jobs of a queue", description="List a queue's jobs.")
    queue.add_argument("dir", metavar="DIR")
    queue.add_argument("--json", action="store_true")
    queue.set_defaults(handler=run_queue_list)


def run_batch(args: argparse.Namespace) -> int:
    from wan.cli.continuity import continuity_from_args
    from wan.cli.speed import acceleration_from_args
    from wan.jobs.batch import expand_inputs, run_queue, submit
    from wan.jobs.queue import Queue
    from wan.plan.build import PlanOptions
    from wan.plan.post import parse_post

    files = expand_inputs(args.inputs)
    queue = Queue(args.out)
    plan_options = PlanOptions(**{k: getattr(args, k) for k in args.plan_flags}, lang=args.lang,
                               continuity=continuity_from_args(args), acceleration=acceleration_from_args(args),
                               post=parse_post(args.post) if args.post else None)  # fmt: skip
    render_options = {"engine": args.engine, "models_dir": args.models, "weights": args.weights,
                      "profile": args.profile, "crf": args.crf, "preset": args.preset,
                      "allow_lower_resolution": args.allow_lower_resolution}  # fmt: skip
    for path in files:
        job = submit(queue, path, plan_options, render_options)
        print(f"job {job.id}: {os.path.basename(path)} -> {job.out} ({job.state})")
    if args.no_run:
        return 0
    counts = run_queue(queue)
    failed = [j for j in queue.jobs() if j.state == "failed"]
    for job in failed:
        print(f"failed: job {job.id} ({job.name}): {job.error}")
    print(f"queue: {', '.join(f'{n} {s}' for s, n in counts.items()) or 'nothing left to do'}")
    return 1 if failed else 0


def run_resume(args: argparse.Namespace) -> int:
    from wan.jobs.batch import resume_folder

    return resume_folder(args.dir)


def run_queue_list(args: argparse.Namespace) -> int:
    from wan.jobs.errors import JobError
    from wan.jobs.queue import DB_NAME, Queue

    if not os.path.isfile(os.path.join(args.dir, DB_NAME)):
        raise JobError("no queue here", where=args.dir, hint="python -m wan batch ... --out DIR creates one")
    queue = Queue(args.dir)
    rows = [{"id": j.id, "name": j.name, "state": j.state, "attempts": j.attempts, "error": j.error,
             "video": j.video, "out": j.out, "clips": len(queue.clips(j.id))} for j in queue.jobs()]  # fmt: skip
    if args.json:
        print(json.dumps({"jobs": rows}))
        return 0
    for r in rows:
        print(f"{r['id']:>4} {r['state']:<10} {r['name']:<30} clips {r['clips']:>3}  {r['error'] or r['video'] or ''}")
    return 0
