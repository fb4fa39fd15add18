"""The rules engine: pure Python, imports no Django (a test enforces it)."""

ENGINE_VERSION = "1.0.0"
