import argparse
import json
import os

_flags = {"wan_weave_models_dir": None, "wan_weave_profile": None, "wan_weave_worker_python": None}
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
