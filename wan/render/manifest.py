"""manifest.json: what a render did, rewritten atomically at every change so a crash or a cancel
always leaves a true record (status, engine, model, warnings, each finished clip, joins, seams)."""

from __future__ import annotations

import dataclasses
import json
import os
import threading

from wan.engine.protocol import EngineReport
from wan.plan.build import GenerationPlan
from wan.render.errors import RenderCancelled
from wan.render.files import write_text_atomic
from wan.render.request import RenderOptions


class Manifest:
    def __init__(self, out_dir: str, plan: GenerationPlan, options: RenderOptions, model_path: str | None,
                 soundtrack: str | None, warnings: list[str]) -> None:  # fmt: skip
        self.path = os.path.join(out_dir, "manifest.json")
        self.plan = plan
        self._lock = threading.Lock()
        self._clips: dict[int, dict] = {}
        self.data: dict = {
            "status": "rendering",
            "engine": options.engine,
            "model": plan.model,
            "model_path": model_path,
            "video": None,
            "frames": plan.max_frames,
            "fps": plan.fps_out,
            "width": plan.width,
            "height": plan.height,
            "soundtrack": soundtrack,
            "warnings": warnings,
            "clips": [],
            "options": {k: v for k, v in dataclasses.asdict(options).items() if k != "resume"},
        }

    def save(self) -> None:
        write_text_atomic(self.path, json.dumps(self.data, indent=2) + "\n")

    def record_clips(self, entries: dict[int, dict]) -> None:
        """Clips whose files are on disk, listed in clip order (writer thread and caller alike)."""
        with self._lock:
            self._clips.update(entries)
            self.data["clips"] = [self._clips[i] for i in sorted(self._clips)]
            self.save()

    def stopped(self, exc: BaseException) -> None:
        cancelled = isinstance(exc, (RenderCancelled, KeyboardInterrupt))
        self.data["status"] = "cancelled" if cancelled else "failed"
        self.data["stopped_at_clip"] = len(self.data["clips"])
        self.data["error"] = None if cancelled else f"{type(exc).__name__}: {exc}"
        self.save()

    def done(self, video: str, seconds: float, report: EngineReport, joins: list, meters, warnings: list[str]) -> None:
        measured = meters.report()
        self.data.update(
            profile=report.profile,
            profile_reason=report.profile_reason,
            status="done",
            video=os.path.basename(video),
            seconds=round(seconds, 3),
            seconds_in_pipeline=round(report.seconds_in_pipeline, 3),
            seconds_loading=round(report.seconds_loading, 3),
            continuity=dataclasses.asdict(self.plan.continuity),
            speed=list(report.speed),
            joins=joins,
            seams=meters.seams.report(),
            adherence={"output": measured["output"], "guide": measured["guide"]},
            guide_seams=measured["guide_seams"],
            depth=report.depth,
            warnings=list(warnings),
        )
        self.save()
