import os

models_path = os.environ.get("WAN_WEAVE_FAKE_MODELS_PATH", "/webui/models")
script_path = os.environ.get("WAN_WEAVE_FAKE_SCRIPT_PATH", "/webui")
