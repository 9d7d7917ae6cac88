"""The version of firebase-ai-chat (read by the build: ``pyproject.toml``)."""

__version__ = "0.2.0"
