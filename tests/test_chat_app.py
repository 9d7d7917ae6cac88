"""``ChatApp``, the declarative API, on the in-memory store and queue (no servers): the guide's to-do app."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from firebase_ai_chat.engines.offline import OfflineEngine, Phrase
from firebase_ai_chat.firebase.app import Assistant, ChatApp
from firebase_ai_chat.testing import InMemoryChatStore, InMemoryTaskQueue
from firebase_ai_chat.tools import ToolContext, Toolset, ToolValue


class Todos(BaseModel):
    items: list[str] = []


planner_tools = Toolset(Todos)
reviewer_tools = Toolset(Todos)
parked: list[str] = []


@planner_tools.tool
def add_item(ctx: ToolContext[Todos], item: Annotated[str, Field(description="What to do")]) -> Todos:
    """Add an item to the list."""
    return Todos(items=[*ctx.data.items, item])


@planner_tools.tool
def add_with_approval(ctx: ToolContext[Todos], item: str) -> Any:
    """Add an item once a manager approves it."""
    parked.append(ctx.continuation.id)
    return ctx.continuation.suspend()


@planner_tools.tool
def ask_reviewer(ctx: ToolContext[Todos]) -> ToolValue:
    """Hand the list to the reviewer."""
    ctx.hand_over("reviewer")
    return ToolValue(value="The reviewer takes over.")


@planner_tools.tool
def give_back(ctx: ToolContext[Todos]) -> ToolValue:
    """A hand-back the planner may not make."""
    ctx.hand_back()
    return ToolValue(value="?")


@reviewer_tools.tool
def done_reviewing(ctx: ToolContext[Todos]) -> ToolValue:
    """Give the chat back to the planner."""
    ctx.hand_back(messages=[f"Reviewed {len(ctx.data.items)} items."])
    return ToolValue(value="Back to the planner.")


PHRASES = [
    Phrase(r"add (.+) once approved", "add_with_approval", lambda m: {"item": m[1]}),
    Phrase(r"add (.+)", "add_item", lambda m: {"item": m[1]}),
    Phrase(r"review", "ask_reviewer"),
    Phrase(r"give back", "give_back"),
    Phrase(r"done", "done_reviewing"),
]


def todo_app() -> ChatApp[Todos]:
    return ChatApp(
        data=Todos,
        assistants=[
            Assistant(name="planner", instructions="Keep the list.", tools=planner_tools, handoffs=("reviewer",)),
            Assistant(name="reviewer", instructions="Review it.", tools=reviewer_tools, can_hand_back=True),
        ],
        worker="todoWorker",
        store=InMemoryChatStore(),
        queue=InMemoryTaskQueue(),
        engine=OfflineEngine(PHRASES),
    )


def test_the_guides_app_keeps_a_list_hands_over_and_back() -> None:
    app = todo_app()
    queue = app.queue
    assert isinstance(queue, InMemoryTaskQueue)
    chat_id = app.chat.create(user_id="u", assistant=app.config("planner"), data=Todos(), messages=["add milk"])
    chat_id = chat_id.chat_document.removeprefix("chats/")
    queue.drain(app.worker)
    for text in ("add bread once approved", "review", "done", "give back"):
        app.chat.post_message(user_id="u", chat_id=chat_id, messages=[text])
        queue.drain(app.worker)
        if parked:
            approve = planner_tools.resumer("add_with_approval", lambda todos: Todos(items=[*todos.items, "bread"]))
            assert app.resume(parked.pop(), approve) is True
            queue.drain(app.worker)
    store = app.store
    assert isinstance(store, InMemoryChatStore)
    state = store.chat_now(chat_id)
    assert state is not None and state.data == {"items": ["milk", "bread"]}
    assert state.config.assistant_id == "planner"
    texts = [m.text for m in store.all_messages(chat_id) if m.author == "ai"]
    assert texts[-1] == "give_back failed: planner cannot hand the chat back."


@pytest.mark.parametrize(
    ("assistants", "problem"),
    [
        ([], "at least one assistant"),
        ([Assistant(name="a", instructions=""), Assistant(name="a", instructions="")], "unique"),
        ([Assistant(name="a", instructions="", handoffs=("b",))], "unknown assistants ['b']"),
    ],
)
def test_a_wrong_declaration_fails_at_import(assistants: list[Assistant], problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        ChatApp(data=Todos, assistants=assistants, worker="w")


def test_a_deployed_worker_without_a_key_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    from firebase_ai_chat import ChatError, ErrorCode
    from firebase_ai_chat.firebase.assistants import choose_engine

    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "CHAT_ENGINE", "FUNCTIONS_EMULATOR"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ChatError) as missing:
        choose_engine(PHRASES)
    assert missing.value.code is ErrorCode.FAILED_PRECONDITION
    assert "OPENAI_API_KEY or GEMINI_API_KEY" in missing.value.message
    monkeypatch.setenv("FUNCTIONS_EMULATOR", "true")
    assert isinstance(choose_engine(PHRASES), OfflineEngine)


@pytest.mark.parametrize(
    ("environment", "chosen"),
    [
        ({"OPENAI_API_KEY": "k"}, "openai"),
        ({"GEMINI_API_KEY": "k"}, "gemini"),
        ({"GOOGLE_GENAI_USE_VERTEXAI": "true"}, "gemini"),
        ({"OPENAI_API_KEY": "k", "GEMINI_API_KEY": "k", "CHAT_ENGINE": "gemini"}, "gemini"),
        ({"OPENAI_API_KEY": "k", "CHAT_ENGINE": "offline"}, "offline"),
        ({"OPENAI_API_KEY": "k", "GEMINI_API_KEY": "k"}, "set CHAT_ENGINE to openai or gemini"),
        ({"CHAT_ENGINE": "claude"}, "CHAT_ENGINE is 'claude'"),
    ],
)
def test_the_apps_engine_is_the_one_configured(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], chosen: str
) -> None:
    from firebase_ai_chat import ChatError, ErrorCode
    from firebase_ai_chat.firebase.assistants import app_engine_name

    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "CHAT_ENGINE", "FUNCTIONS_EMULATOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if " " not in chosen:
        assert app_engine_name() == chosen
        return
    with pytest.raises(ChatError) as ambiguous:
        app_engine_name()
    assert ambiguous.value.code is ErrorCode.FAILED_PRECONDITION and chosen in ambiguous.value.message


def test_an_assistant_on_an_engine_without_its_key_fails_its_run_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from firebase_ai_chat import ChatError
    from firebase_ai_chat.firebase.assistants import engine_named

    for name in ("GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for engine, secret in (("gemini", "GEMINI_API_KEY"), ("openai", "OPENAI_API_KEY")):
        with pytest.raises(ChatError, match=f"The {secret} secret is not set"):
            engine_named(engine, PHRASES)
    with pytest.raises(ValueError, match="engine 'claude' is not one of"):
        ChatApp(data=Todos, assistants=[Assistant(name="a", instructions="", engine="claude")], worker="w")


def test_each_assistant_stores_its_own_engine() -> None:
    app = ChatApp(
        data=Todos,
        assistants=[Assistant(name="a", instructions=""), Assistant(name="b", instructions="", engine="gemini")],
        worker="w",
        secrets=("GEMINI_API_KEY",),
    )
    assert (app.config("a").engine, app.config("b").engine) == ("app", "gemini")
    assert app.settings.secrets == ("GEMINI_API_KEY",)


def test_chats_live_in_the_apps_collection() -> None:
    from firebase_ai_chat import ChatError, ErrorCode
    from firebase_ai_chat.models import PostMessageInput

    store = InMemoryChatStore(collection="tickets")
    app = ChatApp(
        data=Todos,
        assistants=[Assistant(name="planner", instructions="Keep the list.", tools=planner_tools)],
        worker="todoWorker",
        store=store,
        queue=InMemoryTaskQueue(),
        engine=OfflineEngine(PHRASES),
    )
    started = app.chat.create(user_id="u", assistant=app.config("planner"), data=Todos(), messages=["add tea"])
    assert started.chat_document.startswith("tickets/")
    chat_id = started.chat_document.removeprefix("tickets/")
    post = PostMessageInput.model_validate({"chatDocument": started.chat_document, "message": "add milk"})
    assert post.in_collection("tickets") == chat_id
    wrong = PostMessageInput.model_validate({"chatDocument": f"chats/{chat_id}", "message": "add milk"})
    with pytest.raises(ChatError) as refused:
        wrong.in_collection("tickets")
    assert refused.value.code is ErrorCode.INVALID_ARGUMENT and "tickets/{chatId}" in refused.value.message


def test_a_hand_over_without_messages_passes_on_the_users_request_without_reading_it_again() -> None:
    app = todo_app()
    store, queue = app.store, app.queue
    assert isinstance(store, InMemoryChatStore) and isinstance(queue, InMemoryTaskQueue)
    started = app.chat.create(user_id="u", assistant=app.config("planner"), data=Todos(), messages=["add milk"])
    chat_id = started.chat_document.removeprefix("chats/")
    queue.drain(app.worker)
    queried: list[str] = []
    read_messages = store.messages

    def counted(chat: str, **kwargs: Any) -> Any:
        queried.append(chat)
        return read_messages(chat, **kwargs)

    store.messages = counted  # type: ignore[method-assign]
    app.chat.post_message(user_id="u", chat_id=chat_id, messages=["review"])
    queue.drain(app.worker)
    state = store.chat_now(chat_id)
    assert state is not None and state.config.assistant_id == "reviewer"
    texts = [m.text for m in store.all_messages(chat_id) if m.author == "ai"]
    assert texts[-1] == 'You said "review".', texts
    assert queried == [], "the run's input is read once: the hand-over takes the request the run kept"
