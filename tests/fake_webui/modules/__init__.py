"""A stand-in for the WebUI's `modules` package (a true boundary): just what scripts/wan_weave.py
touches, configured through WAN_WEAVE_FAKE_* environment variables, recording what was called."""

CALLS = []
