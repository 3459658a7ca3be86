"""WebUI preload hook: command-line flags, added before the WebUI parses its arguments."""


def preload(parser):
    parser.add_argument(
        "--wan-weave-models-dir",
        type=str,
        default=None,
        help="Wan Weave: folder with WAN and Qwen models (default: the setting, else <models_path>/wan)",
    )
    parser.add_argument(
        "--wan-weave-profile",
        type=str,
        default=None,
        choices=["auto", "full", "balanced", "low", "minimal"],
        help="Wan Weave: default VRAM profile for the generation worker (default: auto, by free VRAM)",
    )
    parser.add_argument(
        "--wan-weave-worker-python",
        type=str,
        default=None,
        help="Wan Weave: python interpreter for the generation worker (default: the WebUI's)",
    )
