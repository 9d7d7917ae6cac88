"""Tools from plain typed signatures and docstrings (no servers)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from firebase_ai_chat import AssistantConfig
from firebase_ai_chat.tools import ChatContext, Continuation, DataReduction, ToolContext, ToolFailure, Toolset


class Count(BaseModel):
    count: float = 0


tools = Toolset(Count)


@tools.tool
def add(ctx: ToolContext[Count], value: Annotated[float, Field(description="How much")], times: int = 1) -> Count:
    """Add a number to the count.

    More details that are not the description.
    """
    return Count(count=ctx.data.count + value * times)


@tools.tool(name="reset", description="Start again")
def reset_count(ctx: ToolContext[Count]) -> Count:
    return Count()


CHAT = ChatContext(
    chat_id="c",
    user_id="u",
    dispatch_id="d",
    assistant=AssistantConfig(engine="e", assistant_id="a", dispatcher_id="t"),
)


def call(name: str, arguments: dict[str, Any]) -> Any:
    return tools.dispatch({"count": 1}, name, json.dumps(arguments), Continuation("c.d.0.0"), CHAT).result


def test_a_tools_schema_comes_from_its_signature_and_docstring() -> None:
    specs = {spec.name: spec for spec in tools.specs()}
    assert specs["add"].description == "Add a number to the count."
    properties = specs["add"].parameters["properties"]
    assert properties["value"]["description"] == "How much"
    assert properties["times"]["default"] == 1
    assert specs["add"].parameters["required"] == ["value"]
    assert specs["reset"].description == "Start again"


def test_plain_parameters_are_validated_and_passed_by_name() -> None:
    assert call("add", {"value": 2, "times": 3}) == DataReduction(data={"count": 7})
    assert call("reset", {}) == DataReduction(data={"count": 0})
    wrong = call("add", {"value": "lots"})
    assert isinstance(wrong, ToolFailure) and wrong.message.startswith("Invalid arguments for add: value")
    unknown = call("add", {"value": 1, "unit": "kg"})
    assert isinstance(unknown, ToolFailure) and "unit" in unknown.message


def test_a_tool_needs_a_description() -> None:
    with pytest.raises(TypeError, match="docstring or a description"):

        @tools.tool
        def silent(ctx: ToolContext[Count]) -> None:
            return None
