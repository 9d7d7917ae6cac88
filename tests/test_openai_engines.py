"""Both OpenAI engines, streamed and not, through the real SDK against the local fake server.

These need no emulator: each test talks to its own fake server on a free port.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAI, Fault, serve

from firebase_ai_chat import AssistantConfig, ChatError, ErrorCode
from firebase_ai_chat.engines.base import Engine, EngineReply, EngineRequest, ToolOutput, ToolSpec, UserInput
from firebase_ai_chat.engines.context_budget import estimate_tokens
from firebase_ai_chat.engines.offline import Phrase
from firebase_ai_chat.engines.openai.chat import OpenAIChatEngine
from firebase_ai_chat.engines.openai.responses import OpenAIResponsesEngine

PHRASES = [
    Phrase(r"add (\d+)", "add", lambda m: {"value": int(m[1])}),
    Phrase(r"multiply by (\d+)", "multiply", lambda m: {"value": int(m[1])}),
]
TOOLS = [
    ToolSpec(name=name, description=name, parameters={"type": "object", "properties": {"value": {"type": "number"}}})
    for name in ("add", "multiply")
]


@pytest.fixture
def fake() -> Iterator[tuple[FakeOpenAI, openai.OpenAI]]:
    server_state = FakeOpenAI(phrases=PHRASES)
    server = serve(server_state, 0)
    port = server.server_address[1]
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="local", max_retries=0, timeout=2)
    yield server_state, client
    server.shutdown()


def make_engine(api: str, client: openai.OpenAI, *, stream: bool) -> Engine:
    if api == "responses":
        return OpenAIResponsesEngine(client=client, model="fake-model", stream=stream)
    return OpenAIChatEngine(client=client, model="fake-model", stream=stream)


def assistant(**update: Any) -> AssistantConfig:
    config = AssistantConfig(engine="x", assistant_id="calc", dispatcher_id="calc", instructions="Be a calculator.")
    return config.model_copy(update=update)


def converse(engine: Engine, on_text: Any = None) -> tuple[EngineReply, EngineReply]:
    """Two turns: the user asks for two tools, then the tool outputs come back."""
    first = engine.run(
        EngineRequest(assistant=assistant(), input=[UserInput(text="add 2 and multiply by 3")], tools=TOOLS),
        on_text=on_text,
    )
    outputs = [
        ToolOutput(call_id=call.call_id, name=call.name, output=json.dumps({"result": index}))
        for index, call in enumerate(first.tool_calls)
    ]
    second = engine.run(
        EngineRequest(assistant=assistant(), input=outputs, tools=TOOLS, context=first.context), on_text=on_text
    )
    return first, second


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_streamed_and_plain_replies_are_the_same(api: str, fake: tuple[FakeOpenAI, openai.OpenAI]) -> None:
    server, client = fake
    partial: list[tuple[int, str]] = []
    plain = converse(make_engine(api, client, stream=False))
    streamed = converse(make_engine(api, client, stream=True), on_text=lambda i, text: partial.append((i, text)))
    for reply in (plain[0], streamed[0]):
        assert [(c.name, json.loads(c.arguments)) for c in reply.tool_calls] == [
            ("add", {"value": 2}),
            ("multiply", {"value": 3}),
        ]
        assert reply.texts == []
    assert plain[1].texts == streamed[1].texts
    assert plain[1].texts and plain[1].texts[0].startswith("add: ")
    final = "\n\n".join(streamed[1].texts) if api == "chat" else streamed[1].texts[-1]
    assert partial, "no delta reached the sink"
    assert partial[-1][1] == final
    assert all(final.startswith(text) or text == streamed[1].texts[i] for i, text in partial)
    assert len(partial) > len(streamed[1].texts), "the text did not arrive in pieces"
    assert streamed[1].usage.input_tokens > 0
    assert any(body.get("stream") for body in server.requests)


@pytest.mark.parametrize(
    ("fault", "code", "permanent"),
    [
        (Fault(status=429), ErrorCode.RESOURCE_EXHAUSTED, False),
        (Fault(status=500), ErrorCode.UNAVAILABLE, False),
        (Fault(status=503), ErrorCode.UNAVAILABLE, False),
        (Fault(status=500, delay=3), ErrorCode.DEADLINE_EXCEEDED, False),
        (Fault(status=400), ErrorCode.FAILED_PRECONDITION, True),
        (Fault(status=401), ErrorCode.FAILED_PRECONDITION, True),
    ],
)
@pytest.mark.parametrize("api", ["responses", "chat"])
@pytest.mark.parametrize("stream", [False, True])
def test_each_fault_class_maps_to_a_chat_error(
    api: str, stream: bool, fault: Fault, code: ErrorCode, permanent: bool, fake: tuple[FakeOpenAI, openai.OpenAI]
) -> None:
    server, client = fake
    server.fail_next(fault)
    with pytest.raises(ChatError) as raised:
        make_engine(api, client, stream=stream).run(
            EngineRequest(assistant=assistant(), input=[UserInput(text="hi")], tools=TOOLS)
        )
    assert raised.value.code is code
    assert raised.value.permanent is permanent
    assert "injected" not in raised.value.message, "the provider's text must not reach the client"


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_malformed_tool_call_arguments_reach_the_worker_as_text(
    api: str, fake: tuple[FakeOpenAI, openai.OpenAI]
) -> None:
    server, client = fake
    server.fail_next(Fault(kind="bad_arguments"))
    reply = make_engine(api, client, stream=True).run(
        EngineRequest(assistant=assistant(), input=[UserInput(text="add 2")], tools=TOOLS)
    )
    [call] = reply.tool_calls
    with pytest.raises(ValueError):
        json.loads(call.arguments)


def test_chat_history_is_trimmed_to_the_budget_with_tool_pairs_intact(fake: tuple[FakeOpenAI, openai.OpenAI]) -> None:
    server, client = fake
    engine = OpenAIChatEngine(client=client, model="fake-model", stream=True)
    config = assistant(context_tokens=150)
    context: dict[str, Any] = {}
    for turn in range(8):
        asked = engine.run(
            EngineRequest(assistant=config, input=[UserInput(text=f"add {turn}")], tools=TOOLS, context=context)
        )
        outputs = [ToolOutput(call_id=c.call_id, name=c.name, output='{"result": 1}') for c in asked.tool_calls]
        answered = engine.run(EngineRequest(assistant=config, input=outputs, tools=TOOLS, context=asked.context))
        context = answered.context
    sent = server.requests_for("chat/completions")[-1]["messages"]
    assert sent[0] == {"role": "system", "content": "Be a calculator."}
    history = sent[1:]
    assert sum(estimate_tokens(m) for m in history) <= 150
    assert history[0]["role"] == "user", "history must start at a whole turn"
    assert {"role": "user", "content": "add 0"} not in history, "the oldest turns were not dropped"
    asked_ids = {c["id"] for m in history for c in m.get("tool_calls") or []}
    answered_ids = {m["tool_call_id"] for m in history if m["role"] == "tool"}
    assert asked_ids == answered_ids
    assert len(context["history"]) <= len(history) + 2


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_stateless_responses_send_the_history_to_a_server_that_keeps_none(
    fake: tuple[FakeOpenAI, openai.OpenAI], stream: bool
) -> None:
    server, client = fake
    server.stateless = True
    engine = OpenAIResponsesEngine(client=client, model="fake-model", stream=stream, store=False)
    first, second = converse(engine)
    assert [call.name for call in first.tool_calls] == ["add", "multiply"]
    assert second.texts and not second.tool_calls
    bodies = server.requests_for("responses")
    assert [body.get("store") for body in bodies] == [False, False]
    assert all("previous_response_id" not in body for body in bodies)
    assert bodies[1]["include"] == ["reasoning.encrypted_content"]
    kinds = [item.get("type") or item.get("role") for item in bodies[1]["input"]]
    assert kinds == ["user", "function_call", "function_call", "function_call_output", "function_call_output"]
    replies = [{"role": "assistant", "content": text} for text in second.texts]
    assert second.context["history"][-len(replies) :] == replies, "the next turn sends what the model said"


@pytest.mark.parametrize("store", [True, False], ids=["stored", "stateless"])
def test_a_stream_without_the_optional_event_fields_still_answers(
    fake: tuple[FakeOpenAI, openai.OpenAI], store: bool
) -> None:
    """As ``llama-server`` streams: no ``sequence_number``, ``output_index`` or ``content_index``, and
    call ids without the ``call_`` prefix (the SDK's stream helper fails on such a stream)."""
    server, client = fake
    server.sparse, server.stateless = True, not store
    shown: list[tuple[int, str]] = []
    engine = OpenAIResponsesEngine(client=client, model="fake-model", stream=True, store=store)
    first, second = converse(engine, on_text=lambda index, text: shown.append((index, text)))
    assert [call.name for call in first.tool_calls] == ["add", "multiply"]
    assert not any(call.call_id.startswith("call_") for call in first.tool_calls)
    assert second.texts == ["add: 0", "multiply: 1"] and not second.tool_calls
    assert (0, "add: 0") in shown and shown[-1] == (1, "multiply: 1"), "each text streamed in its own place"
    assert second.usage.output_tokens > 0


def test_a_server_without_state_fails_the_default_mode_naming_the_setting(
    fake: tuple[FakeOpenAI, openai.OpenAI],
) -> None:
    server, client = fake
    server.stateless = True
    engine = OpenAIResponsesEngine(client=client, model="fake-model", stream=False)
    first = engine.run(EngineRequest(assistant=assistant(), input=[UserInput(text="add 2")], tools=TOOLS))
    outputs = [ToolOutput(call_id=c.call_id, name=c.name, output='{"result": 2}') for c in first.tool_calls]
    with pytest.raises(ChatError) as raised:
        engine.run(EngineRequest(assistant=assistant(), input=outputs, tools=TOOLS, context=first.context))
    assert raised.value.code is ErrorCode.FAILED_PRECONDITION and raised.value.permanent
    assert "OPENAI_STORE=false" in raised.value.message
