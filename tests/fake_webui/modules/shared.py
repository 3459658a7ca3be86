import argparse
import json
import os

_flags = {"wan_weave_models_dir": None, "wan_weave_profile": None, "wan_weave_worker_python": None, "api": False,
          "api_auth": None, "nowebui": False}
cmd_opts = argparse.Namespace(**{**_flags, **json.loads(os.environ.get("WAN_WEAVE_FAKE_CMD_OPTS", "{}"))})


class OptionInfo:
    def __init__(self, default=None, label="", component=None, component_args=None, onchange=None, section=None):
        self.default, self.label, self.section = default, label, section


class Options:
    def __init__(self):
        self.data, self.infos = {}, {}

    def add_option(self, key, info):
        self.infos[key] = info
        self.data.setdefault(key, info.default)


opts = Options()


class _Shared(type(os)):
    """A1111 1.10 makes `shared.sd_model` a property that LOADS the checkpoint when none is loaded."""

    @property
    def sd_model(self):
        from . import CALLS

        CALLS.append("shared.sd_model read (A1111 loads the checkpoint here)")
        return None


import sys  # noqa: E402

sys.modules[__name__].__class__ = _Shared
