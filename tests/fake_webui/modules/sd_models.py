import os

from . import CALLS


class _ModelData:
    """A1111's SdModelData: `sd_model` is the loaded model, or None before any was loaded."""

    def __init__(self):
        self.sd_model = object() if os.environ.get("WAN_WEAVE_FAKE_LOADED") else None


model_data = _ModelData()

if os.environ.get("WAN_WEAVE_FAKE_HOST") == "forge":

    def forge_model_reload():  # Forge's marker: its unload never loads a model
        CALLS.append("sd_models.forge_model_reload")


def unload_model_weights(sd_model=None, info=None):
    CALLS.append("sd_models.unload_model_weights" + ("(model)" if sd_model is model_data.sd_model and sd_model else ""))
