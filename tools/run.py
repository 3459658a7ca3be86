"""Set up once, then run `python -m wan ...`: `python3 tools/run.py describe examples/lighthouse_3d.txt`."""

from __future__ import annotations

import os
import subprocess
import sys

from devenv import ROOT, ensure_venv  # tools/ is first on sys.path when run as a script


def main() -> int:
    py = ensure_venv("requirements.txt")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.call([str(py), "-m", "wan", *sys.argv[1:]], env=env)


if __name__ == "__main__":
    sys.exit(main())
