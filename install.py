"""WebUI install hook (run by Forge/A1111 at start-up, before the extension loads).

Today Wan Weave's loaded part needs only numpy, which every WebUI has, so nothing is installed.
The generation worker's private dependency overlay arrives with the worker (issue [E]); it will
be installed inside this folder without upgrading anything the WebUI pins, and `--skip-install`
will be honoured.
"""

import sys

if "--skip-install" in sys.argv:
    print("Wan Weave: --skip-install given, nothing installed")
