"""The fake OpenAI server against the real SDK: both APIs, streamed or not, validations and faults (no emulators)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAI, Fault, serve

from firebase_ai_chat.engines.offline import Phrase

PHRASES = [
    Phrase(r"add (\d+)", "add", lambda m: {"value": int(m[1])}),
    Phrase(r"reset", "reset"),
]
PARAMETERS = {"type": "object", "properties": {"value": {"type": "integer"}}}
RESPONSE_TOOLS: list[Any] = [
    {"type": "function", "name": name, "description": name, "parameters": PARAMETERS, "strict": False}
    for name in ("add", "reset")
]
CHAT_TOOLS: list[Any] = [
    {"type": "function", "function": {"name": name, "description": name, "parameters": PARAMETERS}}
    for name in ("add", "reset")
]
LONG = "please tell me a long story about numbers"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeOpenAI, int]]:
    """One fake on a free port for the module (shutting a server down takes half a second)."""
    fake = FakeOpenAI(phrases=PHRASES)
    server = serve(fake, 0)
    yield fake, server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake(server: tuple[FakeOpenAI, int]) -> FakeOpenAI:
    """The module's fake, with no faults, records or delay left by an earlier test."""
    fake = server[0]
    with fake.lock:
        fake.faults.clear()
        fake.requests.clear()
        fake.paths.clear()
    fake.stream_delay = 0.0
    return fake


@pytest.fixture
def client(server: tuple[FakeOpenAI, int], fake: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{server[1]}/v1", api_key="x", max_retries=0)


# --- Responses API -----------------------------------------------------------------------------------------------


def summary(response: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """The texts and (name, arguments) of the function calls of a Responses API response."""
    texts = [part.text for item in response.output if item.type == "message" for part in item.content]
    calls = [(item.name, item.arguments) for item in response.output if item.type == "function_call"]
    return texts, calls


def both_ways(client: openai.OpenAI, **arguments: Any) -> tuple[Any, Any, list[Any]]:
    """The same request non-streamed and streamed: (response, final streamed response, stream events)."""
    created = client.responses.create(model="m", **arguments)
    with client.responses.stream(model="m", **arguments) as stream:
        events = list(stream)
        final = stream.get_final_response()
    return created, final, events


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LONG, ([f'You said "{LONG}".'], [])),
        ("add 12 and reset", ([], [("add", '{"value": 12}'), ("reset", "{}")])),
    ],
)
def test_responses_stream_accumulates_to_the_non_streamed_response(
    client: openai.OpenAI, text: str, expected: Any
) -> None:
    created, final, events = both_ways(
        client, input=[{"role": "user", "content": text}], tools=RESPONSE_TOOLS, instructions="be brief"
    )
    assert summary(created) == summary(final) == expected
    assert final.status == "completed"
    assert final.usage is not None and final.usage.total_tokens == created.usage.total_tokens
    assert [event.sequence_number for event in events] == list(range(len(events)))
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert kinds.count("response.output_item.added") == kinds.count("response.output_item.done") == len(final.output)
    if expected[0]:
        deltas = [event for event in events if event.type == "response.output_text.delta"]
        assert len(deltas) > 3 and all(len(event.delta) <= 8 for event in deltas)
        assert deltas[-1].snapshot == expected[0][0]
        assert kinds.index("response.content_part.added") < kinds.index("response.output_text.delta")
        assert kinds.index("response.output_text.done") < kinds.index("response.content_part.done")
    else:
        deltas = [event for event in events if event.type == "response.function_call_arguments.delta"]
        assert "".join(event.delta for event in deltas) == '{"value": 12}{}'
        assert kinds.count("response.function_call_arguments.done") == 2
        assert all(item.call_id for item in final.output)


def test_responses_stream_continues_with_tool_outputs(client: openai.OpenAI) -> None:
    with client.responses.stream(
        model="m", input=[{"role": "user", "content": "add 2, add 3"}], tools=RESPONSE_TOOLS
    ) as s:
        first = s.get_final_response()
    calls = [item for item in first.output if item.type == "function_call"]
    outputs: list[Any] = [
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"result": 2}'},
        {"type": "function_call_output", "call_id": calls[1].call_id, "output": '{"error": "too big"}'},
    ]
    with client.responses.stream(model="m", previous_response_id=first.id, input=outputs, tools=RESPONSE_TOOLS) as s:
        second = s.get_final_response()
    assert summary(second) == (["add: 2", "add failed: too big"], [])
    with pytest.raises(openai.BadRequestError, match="No tool output found"):
        client.responses.create(model="m", previous_response_id=first.id, input=outputs[:1])


# --- Chat Completions --------------------------------------------------------------------------------------------


def chat_summary(message: Any) -> tuple[str | None, list[tuple[str, str, str]]]:
    calls = [(call.id, call.function.name, call.function.arguments) for call in message.tool_calls or []]
    return message.content, calls


def without_ids(summary: tuple[str | None, list[tuple[str, str, str]]]) -> Any:
    return summary[0], [(name, arguments) for _, name, arguments in summary[1]]


def assemble(chunks: list[Any]) -> tuple[str | None, list[tuple[str, str, str]]]:
    """Content and tool calls from raw ``chat.completion.chunk`` objects, the way an app assembles them by hand."""
    content: str | None = None
    calls: dict[int, list[str]] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            if choice.delta.content is not None:
                content = (content or "") + choice.delta.content
            for call in choice.delta.tool_calls or []:
                if call.id is not None:
                    assert call.index not in calls and call.function.arguments == ""
                    calls[call.index] = [call.id, call.function.name, ""]
                else:
                    assert call.function.name is None
                calls[call.index][2] += call.function.arguments or ""
    return content or None, [(i, n, a) for i, n, a in (calls[index] for index in sorted(calls))]


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([{"role": "user", "content": LONG}], (f'You said "{LONG}".', [])),
        (
            [{"role": "system", "content": "be brief"}, {"role": "user", "content": "add 12 then reset"}],
            (None, [("add", '{"value": 12}'), ("reset", "{}")]),
        ),
        (
            [
                {"role": "user", "content": "add 1"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"value": 1}'}},
                        {"id": "c2", "type": "function", "function": {"name": "reset", "arguments": "{}"}},
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": '{"result": 1}'},
                {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": '{"error": "locked"}'}]},
                {"role": "user", "content": "add 5"},
            ],
            ("add: 1\n\nreset failed: locked", [("add", '{"value": 5}')]),
        ),
    ],
)
def test_chat_streams_match_the_non_streamed_completion(
    client: openai.OpenAI, messages: list[Any], expected: Any
) -> None:
    created = client.chat.completions.create(model="m", messages=messages, tools=CHAT_TOOLS)
    chunks = list(
        client.chat.completions.create(
            model="m", messages=messages, tools=CHAT_TOOLS, stream=True, stream_options={"include_usage": True}
        )
    )
    with client.chat.completions.stream(
        model="m", messages=messages, tools=CHAT_TOOLS, stream_options={"include_usage": True}
    ) as stream:
        events = list(stream)
        final = stream.get_final_completion()

    assert without_ids(chat_summary(created.choices[0].message)) == expected
    assert without_ids(assemble(chunks)) == expected
    assert without_ids(chat_summary(final.choices[0].message)) == expected
    finish = "tool_calls" if expected[1] else "stop"
    assert created.choices[0].finish_reason == final.choices[0].finish_reason == finish
    assert created.object == "chat.completion" and created.usage is not None
    assert chunks[-1].choices == [] and chunks[-1].usage == final.usage
    assert final.usage is not None and final.usage.total_tokens == created.usage.total_tokens
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(chunk.choices[0].delta.role is None for chunk in chunks[1:-1])
    if expected[0]:
        pieces = [c.choices[0].delta.content for c in chunks[1:] if c.choices and c.choices[0].delta.content]
        assert len(pieces) > 1 and all(len(piece) <= 8 for piece in pieces)
        assert [e.delta for e in events if e.type == "content.delta" and e.delta] == pieces
    if expected[1]:
        done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
        assert [(e.name, e.arguments) for e in done] == expected[1]
        ids = [call.id for call in final.choices[0].message.tool_calls or []]
        assert len(set(ids)) == len(ids) and all(i.startswith("call_") for i in ids)


def test_chat_stream_without_usage_and_done_marker(client: openai.OpenAI, fake: FakeOpenAI) -> None:
    chunks = list(client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in chunks)
    assert assemble(chunks) == ('You said "hi".', [])
    assert fake.requests[-1]["stream"] is True


def assistant_calls(*ids: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": i, "type": "function", "function": {"name": "add", "arguments": '{"value": 1}'}} for i in ids
        ],
    }


def tool(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": '{"result": 1}'}


USER = {"role": "user", "content": "add 1"}


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([USER, assistant_calls("a", "b"), tool("a")], "did not have response messages: b"),
        ([USER, assistant_calls("a"), USER], "did not have response messages: a"),
        ([USER, assistant_calls("a", "b"), tool("a"), USER, tool("b")], "did not have response messages: b"),
        ([USER, tool("a")], "must be a response to a preceeding message with 'tool_calls'"),
        ([USER, assistant_calls("a"), tool("x")], "must be a response to a preceeding message"),
        ([USER, assistant_calls("a"), tool("a"), tool("a")], "must be a response to a preceeding message"),
        ([USER, assistant_calls("a"), tool("a"), USER, tool("a")], "must be a response to a preceeding message"),
        ([], "empty array"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_chat_history_is_validated(client: openai.OpenAI, messages: list[Any], message: str, stream: bool) -> None:
    with pytest.raises(openai.BadRequestError, match=message) as raised:
        client.chat.completions.create(model="m", messages=messages, tools=CHAT_TOOLS, stream=stream)
    assert raised.value.status_code == 400
    assert raised.value.type == "invalid_request_error"


def test_a_valid_tool_round_trip_is_accepted(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="m", messages=[USER, assistant_calls("a", "b"), tool("b"), tool("a")], tools=CHAT_TOOLS
    )
    assert completion.choices[0].message.content == "add: 1\n\nadd: 1"
    assert completion.choices[0].message.tool_calls is None


# --- Faults, pacing, records -------------------------------------------------------------------------------------


def call_responses(client: openai.OpenAI, stream: bool) -> list[tuple[str, str]]:
    arguments: dict[str, Any] = {"model": "m", "input": [{"role": "user", "content": "add 7"}], "tools": RESPONSE_TOOLS}
    if not stream:
        return summary(client.responses.create(**arguments))[1]
    with client.responses.stream(**arguments) as s:
        return summary(s.get_final_response())[1]


def call_chat(client: openai.OpenAI, stream: bool) -> list[tuple[str, str]]:
    arguments: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "add 7"}], "tools": CHAT_TOOLS}
    if not stream:
        message = client.chat.completions.create(**arguments).choices[0].message
    else:
        with client.chat.completions.stream(**arguments) as s:
            message = s.get_final_completion().choices[0].message
    return without_ids(chat_summary(message))[1]


CALLERS = [call_responses, call_chat]


@pytest.mark.parametrize("call", CALLERS)
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("status", "error"),
    [(429, openai.RateLimitError), (500, openai.InternalServerError), (503, openai.InternalServerError)],
)
def test_injected_status_faults(
    client: openai.OpenAI, fake: FakeOpenAI, call: Any, stream: bool, status: int, error: type[Exception]
) -> None:
    fake.fail_next(Fault(status=status, delay=0.2))
    started = time.monotonic()
    with pytest.raises(error) as raised:
        call(client, stream)
    assert time.monotonic() - started >= 0.2
    assert isinstance(raised.value, openai.APIStatusError) and raised.value.status_code == status
    assert call(client, stream) == [("add", '{"value": 7}')]  # the fault was for one request only


def test_faults_are_shared_by_both_endpoints_in_order(client: openai.OpenAI, fake: FakeOpenAI) -> None:
    fake.fail_next(Fault(status=429), Fault(status=500))
    with pytest.raises(openai.RateLimitError):
        call_chat(client, False)
    with pytest.raises(openai.InternalServerError):
        call_responses(client, True)
    assert call_chat(client, True) == call_responses(client, False) == [("add", '{"value": 7}')]


@pytest.mark.parametrize("call", CALLERS)
@pytest.mark.parametrize("stream", [False, True])
def test_bad_arguments_fault(client: openai.OpenAI, fake: FakeOpenAI, call: Any, stream: bool) -> None:
    fake.fail_next(Fault(kind="bad_arguments"))
    [(name, arguments)] = call(client, stream)
    assert (name, arguments) == ("add", '{"value": ')
    with pytest.raises(json.JSONDecodeError):
        json.loads(arguments)
    assert call(client, stream) == [("add", '{"value": 7}')]


def test_a_stream_shows_partial_text_before_the_server_sends_the_rest(client: openai.OpenAI, fake: FakeOpenAI) -> None:
    """The server holds each stream after its first piece of text until the client has shown it: a
    client that saw nothing before the end would leave the server waiting (30 s, then ``held`` says so)."""
    for stream_of in (
        lambda: client.chat.completions.stream(model="m", messages=[{"role": "user", "content": LONG}]),
        lambda: client.responses.stream(model="m", input=[{"role": "user", "content": LONG}]),
    ):
        fake.release.clear()
        fake.hold_after = "You said"
        seen: list[str] = []
        with stream_of() as stream:
            for event in stream:
                if event.type in ("content.delta", "response.output_text.delta") and event.delta:
                    seen.append(event.snapshot)
                    fake.release.set()
        assert seen[0] == "You said" and len(seen) >= 5
        assert seen[-1] == f'You said "{LONG}".'
    assert fake.held == [True, True], "a piece of text reached the client only after the stream ended"
    fake.held.clear()


def test_requests_and_paths_are_recorded(client: openai.OpenAI, fake: FakeOpenAI) -> None:
    call_responses(client, False)
    call_chat(client, True)
    fake.fail_next(Fault(status=500))
    with pytest.raises(openai.InternalServerError):
        call_chat(client, False)
    with pytest.raises(openai.NotFoundError):
        client.post("/nowhere", cast_to=object, body={"x": 1})
    assert fake.paths == ["/v1/responses", "/v1/chat/completions", "/v1/chat/completions"]
    assert [body["model"] for body in fake.requests] == ["m", "m", "m"]
    assert fake.requests_for("responses") == fake.requests[:1]
    assert [body.get("stream") for body in fake.requests_for("chat/completions")] == [True, None]
    assert "input" in fake.requests[0] and "messages" in fake.requests[1]
