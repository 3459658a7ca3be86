from . import CALLS


def unload_model_weights(sd_model=None, info=None):
    CALLS.append("sd_models.unload_model_weights")
