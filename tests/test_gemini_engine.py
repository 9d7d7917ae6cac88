"""The Gemini engine through the real ``google-genai`` SDK against the local fake Gemini server: the
Gemini Developer API with a key, and Vertex AI with Application Default Credentials and no key.

These need no emulator: each test talks to its own fake server on a free port.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crew import CALC, Crew
from crew import PHRASES as CREW_PHRASES
from fake_gemini import SIGNATURE, FakeGemini, credentials_file, serve
from fake_openai import Fault

from firebase_ai_chat import AssistantConfig, ChatError, ErrorCode
from firebase_ai_chat.engines.base import (
    INSTRUCTION_PREFIX,
    AssistantText,
    EngineReply,
    EngineRequest,
    ToolOutput,
    ToolSpec,
    UserInput,
)
from firebase_ai_chat.engines.failures import BLOCKED_MESSAGE, REJECTED_MESSAGE, UNAVAILABLE_MESSAGE
from firebase_ai_chat.engines.gemini import GeminiEngine
from firebase_ai_chat.engines.gemini.client import client_from_environment
from firebase_ai_chat.engines.offline import Phrase
from firebase_ai_chat.testing import InMemoryChatStore

PHRASES = [
    Phrase(r"add (\d+)", "add", lambda m: {"value": int(m[1])}),
    Phrase(r"multiply by (\d+)", "multiply", lambda m: {"value": int(m[1])}),
]
SCHEMA = {"type": "object", "properties": {"value": {"type": "number"}}, "required": ["value"]}
TOOLS = [ToolSpec(name=name, description=name, parameters=SCHEMA) for name in ("add", "multiply")]


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    state = FakeGemini(phrases=PHRASES)
    server = serve(state, 0)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield state
    server.shutdown()


def gemini_api(fake: FakeGemini, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "local-key")
    monkeypatch.setenv("GEMINI_BASE_URL", fake.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("GEMINI_MAX_RETRIES", "0")


def vertex_ai(fake: FakeGemini, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Vertex AI as a deployed function has it: no key, the runtime's credentials (here an ADC file
    whose token endpoint is the fake's), the project from the environment."""
    url = fake.url  # type: ignore[attr-defined]
    credentials = credentials_file(tmp_path / "adc.json", url)
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(credentials))
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "europe-west1")
    monkeypatch.setenv("GEMINI_BASE_URL", url)
    monkeypatch.setenv("GEMINI_MAX_RETRIES", "0")


def assistant(**update: Any) -> AssistantConfig:
    config = AssistantConfig(engine="gemini", assistant_id="calc", dispatcher_id="calc", instructions="Calculate.")
    return config.model_copy(update=update)


def converse(engine: GeminiEngine, on_text: Any = None) -> tuple[EngineReply, EngineReply]:
    """Two turns: the user asks for two tools, then their outputs come back."""
    first = engine.run(
        EngineRequest(assistant=assistant(), input=[UserInput(text="add 2 and multiply by 3")], tools=TOOLS),
        on_text=on_text,
    )
    outputs = [
        ToolOutput(call_id=call.call_id, name=call.name, output=json.dumps({"data": {"sum": index}}))
        for index, call in enumerate(first.tool_calls)
    ]
    second = engine.run(
        EngineRequest(assistant=assistant(), input=outputs, tools=TOOLS, context=first.context), on_text=on_text
    )
    return first, second


@pytest.mark.parametrize("stream", [True, False])
def test_tools_are_called_and_answered_over_the_gemini_api(
    fake: FakeGemini, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    gemini_api(fake, monkeypatch)
    shown: list[tuple[int, str]] = []
    first, second = converse(GeminiEngine(stream=stream), on_text=lambda i, text: shown.append((i, text)))
    assert [(c.name, json.loads(c.arguments)) for c in first.tool_calls] == [
        ("add", {"value": 2}),
        ("multiply", {"value": 3}),
    ]
    assert len({c.call_id for c in first.tool_calls}) == 2, "calls without an id get one of their own"
    assert second.texts == ['add: data is now {"sum": 0}\n\nmultiply: data is now {"sum": 1}']
    assert second.model == "gemini-2.5-flash" and second.usage.input_tokens > 0 and second.usage.output_tokens > 0
    if stream:
        assert len(shown) > 1 and shown[-1] == (0, second.texts[0]), "the text arrives piece by piece"
    else:
        assert shown == [], "not streamed: no partial text (each would be a write)"
    body = fake.requests[-1]
    assert fake.paths[-1].startswith("/v1/models/gemini-2.5-flash:")
    assert body["systemInstruction"]["parts"] == [{"text": "Calculate."}]
    declared = body["tools"][0]["functionDeclarations"]
    schemas = [d.get("parametersJsonSchema", d.get("parameters_json_schema")) for d in declared]
    assert schemas == [SCHEMA, SCHEMA], "JSON Schemas go as they are"
    signed = body["contents"][1]["parts"][0]
    assert base64.b64decode(signed["thoughtSignature"]).startswith(SIGNATURE), "the model's parts go back as they came"


def test_vertex_ai_needs_no_key_only_the_runtime_credentials(
    fake: FakeGemini, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    vertex_ai(fake, monkeypatch, tmp_path)
    first, second = converse(GeminiEngine())
    assert fake.paths[0] == (
        "/v1beta1/projects/demo-project/locations/europe-west1/publishers/google/models/gemini-2.5-flash"
        ":streamGenerateContent"
    )
    assert fake.tokens >= 1, "the credentials fetched an access token"
    assert [c.call_id for c in first.tool_calls] == ["call_gemini00001_0", "call_gemini00001_1"], "Vertex sends ids"
    responses = fake.requests[-1]["contents"][-1]["parts"]
    assert [r["functionResponse"]["id"] for r in responses] == ["call_gemini00001_0", "call_gemini00001_1"]
    assert second.texts and "multiply" in second.texts[0]


def test_the_history_stays_within_the_budget_and_keeps_whole_turns(
    fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    gemini_api(fake, monkeypatch)
    engine, context = GeminiEngine(stream=False), {}
    small = assistant(context_tokens=120)
    for number in range(12):
        first = engine.run(
            EngineRequest(assistant=small, input=[UserInput(text=f"add {number}")], tools=TOOLS, context=context)
        )
        output = ToolOutput(call_id=first.tool_calls[0].call_id, name="add", output=json.dumps({"data": number}))
        context = engine.run(EngineRequest(assistant=small, input=[output], tools=TOOLS, context=first.context)).context
    sent = fake.requests[-1]["contents"]
    assert len(sent) < 12 * 3, "old turns were dropped"
    assert sent[0]["role"] == "user" and "text" in sent[0]["parts"][0], "the history starts at a user's message"


def test_a_stopped_answer_is_history_and_the_next_message_is_answered(
    fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    gemini_api(fake, monkeypatch)
    inputs = [UserInput(text="hello"), AssistantText(text="Hel"), UserInput(text="again")]
    reply = GeminiEngine().run(EngineRequest(assistant=assistant(), input=inputs, tools=TOOLS))
    assert reply.texts == ['You said "again".']
    assert fake.requests[-1]["contents"][1] == {
        "role": "model",
        "parts": [{"text": "Hel\n\n[The user stopped this answer.]"}],
    }


@pytest.mark.parametrize(
    ("fault", "code", "message", "permanent"),
    [
        (Fault(status=429), ErrorCode.RESOURCE_EXHAUSTED, UNAVAILABLE_MESSAGE, False),
        (Fault(status=503), ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, False),
        (Fault(status=400), ErrorCode.FAILED_PRECONDITION, REJECTED_MESSAGE, True),
        (Fault(kind="blocked"), ErrorCode.FAILED_PRECONDITION, BLOCKED_MESSAGE, True),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
def test_failures_become_clear_chat_errors(
    fake: FakeGemini,
    monkeypatch: pytest.MonkeyPatch,
    fault: Fault,
    code: ErrorCode,
    message: str,
    permanent: bool,
    stream: bool,
) -> None:
    gemini_api(fake, monkeypatch)
    fake.fail_next(fault)
    with pytest.raises(ChatError) as raised:
        GeminiEngine(stream=stream).run(EngineRequest(assistant=assistant(), input=[UserInput(text="hi")]))
    assert (raised.value.code, raised.value.message, raised.value.permanent) == (code, message, permanent)
    assert "injected" not in str(raised.value), "the provider's text never reaches the user"


def test_a_hand_over_to_another_engine_and_back_keeps_each_assistants_context(
    fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calculator on Gemini hands over to the halver on the offline engine and gets the chat back:
    its Gemini history (calls, signatures, their responses) is still one Gemini accepts."""
    gemini_api(fake, monkeypatch)
    fake.phrases = CREW_PHRASES
    store = InMemoryChatStore()
    crew = Crew(store, "u", store.all_messages, engines={"gemini": GeminiEngine()})
    chat_id = crew.start("add 4 and switch", assistant=CALC.model_copy(update={"engine": "gemini"}))
    crew.drain()
    assert (crew.state(chat_id)["config"]["assistantId"], crew.state(chat_id)["data"]) == ("half", {"sum": 2})
    crew.chat.hand_back(user_id=crew.user_id, chat_id=chat_id, messages=["add 1"])
    crew.drain()
    state = crew.state(chat_id)
    assert (state["config"]["assistantId"], state["status"], state["data"]) == ("calc", "userInput", {"sum": 3})
    back = fake.requests[1]["contents"]  # the calculator's first turn once back
    assert [c["role"] for c in back] == ["user", "model", "user", "user"], "calls, their responses, the new input"
    assert [p["functionResponse"]["name"] for p in back[2]["parts"]] == ["add", "switch"]
    assert back[3] == {"role": "user", "parts": [{"text": f"{INSTRUCTION_PREFIX} add 1"}]}, "the app's message"
    assert crew.ai_texts(chat_id)[-1] == 'add: data is now {"sum": 3}'
    assert len(fake.requests) == 3, "the halver never called Gemini"


def test_the_client_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(ValueError, match="API key"):
        client_from_environment()
