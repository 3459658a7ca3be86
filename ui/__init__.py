"""Gradio Blocks for the WebUI tab and the standalone app (issue [E]; not built yet)."""
