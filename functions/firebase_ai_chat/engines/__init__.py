"""Engines: the ``Engine`` port and its implementations."""

from .base import Engine, EngineInput, EngineReply, EngineRequest, ToolCall, ToolOutput, ToolSpec, Usage, UserInput
from .offline import OfflineEngine

__all__ = [
    "Engine",
    "EngineInput",
    "EngineReply",
    "EngineRequest",
    "OfflineEngine",
    "ToolCall",
    "ToolOutput",
    "ToolSpec",
    "Usage",
    "UserInput",
]
