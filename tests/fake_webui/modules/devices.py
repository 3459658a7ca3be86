from . import CALLS


def torch_gc():
    CALLS.append("devices.torch_gc")
