"""Prompt enhancement with local Qwen models and the template fallback (issue [D]; not built yet)."""
