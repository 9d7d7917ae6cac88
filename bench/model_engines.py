"""Every engine on its real SDK against the tests' local fake servers (``tests/fake_openai.py``,
``tests/fake_gemini.py``), for the benchmarks: the same turns through each engine must cost the
same Firestore operations (an engine keeps its context in the assistant's context record, whatever
its shape). Not streamed: with streaming the partial writes depend on timing, not on the engine."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import openai
from fake_gemini import FakeGemini
from fake_gemini import serve as serve_gemini
from fake_openai import FakeOpenAI
from fake_openai import serve as serve_openai
from google import genai

from firebase_ai_chat.engines.base import Engine
from firebase_ai_chat.engines.gemini import GeminiEngine
from firebase_ai_chat.engines.offline import Phrase
from firebase_ai_chat.engines.openai import OpenAIChatEngine, OpenAIResponsesEngine


@contextmanager
def model_engines(phrases: Sequence[Phrase]) -> Iterator[dict[str, Engine]]:
    """The engines by name, each on its own fake server (stopped at the end)."""
    stored, stateless = FakeOpenAI(phrases=phrases), FakeOpenAI(phrases=phrases, stateless=True, sparse=True)
    gemini = FakeGemini(phrases=phrases)
    servers = [serve_openai(stored, 0), serve_openai(stateless, 0), serve_gemini(gemini, 0)]
    urls = [f"http://127.0.0.1:{server.server_address[1]}" for server in servers]

    def client(url: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{url}/v1", api_key="bench", max_retries=0)

    google = genai.Client(api_key="bench", http_options={"base_url": urls[2]})
    try:
        yield {
            "openai-responses": OpenAIResponsesEngine(client=client(urls[0]), model="fake-model", stream=False),
            "openai-chat": OpenAIChatEngine(client=client(urls[0]), model="fake-model", stream=False),
            "openai-stateless": OpenAIResponsesEngine(
                client=client(urls[1]), model="fake-model", stream=False, store=False
            ),
            "gemini": GeminiEngine(client=google, model="fake-model", stream=False),
        }
    finally:
        for server in servers:
            server.shutdown()
