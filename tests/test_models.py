"""Models and input validation, without servers."""

from typing import Any

import pytest
from pydantic import ValidationError

from firebase_ai_chat import AssistantConfig, ChatError, ChatStatus, ErrorCode
from firebase_ai_chat.commands import ChatCommand
from firebase_ai_chat.models import (
    MAX_MESSAGE_LENGTH,
    ChatConfig,
    ChatDocumentInput,
    ChatState,
    MessageInput,
    PostMessageInput,
    chat_id_of,
)

ASSISTANT = AssistantConfig(engine="offline", assistant_id="calculator", dispatcher_id="calculator")


def test_chat_state_round_trips_through_camel_case_document() -> None:
    state = ChatState(
        user_id="u1",
        status=ChatStatus.PROCESSING,
        data={"sum": 1},
        config=ChatConfig(**ASSISTANT.model_dump(), stack=[ASSISTANT]),
        latest_dispatch_id="d1",
    )
    document = state.to_document()
    assert document["userId"] == "u1"
    assert document["status"] == "processing"
    assert document["latestDispatchId"] == "d1"
    assert document["config"]["dispatcherId"] == "calculator"
    assert document["config"]["stack"][0]["assistantId"] == "calculator"
    assert ChatState.model_validate(document) == state


def test_chat_config_exposes_the_active_assistant_without_stack() -> None:
    config = ChatConfig(**ASSISTANT.model_dump(), stack=[ASSISTANT.model_copy(update={"assistant_id": "divider"})])
    assert config.assistant == ASSISTANT


def test_command_payload_is_camel_case() -> None:
    command = ChatCommand(chat_id="c", dispatch_id="d", meta={"k": 1})
    assert command.to_document() == {"chatId": "c", "dispatchId": "d", "action": "run", "meta": {"k": 1}}
    assert ChatCommand.model_validate(command.to_document()) == command


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"message": ""},
        {"message": "   \n"},
        {"message": 5},
        {"message": None},
        {"message": "x" * (MAX_MESSAGE_LENGTH + 1)},
        {"message": "hi", "extra": 1},
    ],
)
def test_message_input_rejects_malformed(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MessageInput.model_validate(data)


def test_message_input_accepts_longest_and_unicode() -> None:
    assert MessageInput.model_validate({"message": "x" * MAX_MESSAGE_LENGTH}).message == "x" * MAX_MESSAGE_LENGTH
    assert MessageInput.model_validate({"message": "добавь 5 ➕"}).message == "добавь 5 ➕"  # noqa: RUF001


@pytest.mark.parametrize(
    "path",
    ["chats/", "chats/a/messages/b", "/chats/abc", "chats/../x", "chats/a b", "", "chats/" + "a" * 129, "chats/__x__"],
)
def test_a_malformed_chat_document_is_rejected(path: str) -> None:
    with pytest.raises(ValidationError):
        ChatDocumentInput.model_validate({"chatDocument": path})
    with pytest.raises(ChatError) as raised:
        chat_id_of(path)
    assert raised.value.code is ErrorCode.INVALID_ARGUMENT


def test_a_chat_document_outside_the_apps_collection_is_rejected() -> None:
    other = ChatDocumentInput.model_validate({"chatDocument": "users/abc"})
    for check in (lambda: other.chat_id, lambda: other.in_collection("chats"), lambda: chat_id_of("users/abc")):
        with pytest.raises(ChatError) as raised:
            check()
        assert raised.value.code is ErrorCode.INVALID_ARGUMENT
    assert other.in_collection("users") == "abc"


def test_post_message_input_parses_chat_id() -> None:
    payload = PostMessageInput.model_validate({"chatDocument": "chats/abc_1-Z", "message": "add 2"})
    assert payload.chat_id == "abc_1-Z"
    assert payload.message == "add 2"


def test_error_codes_are_transient_or_permanent() -> None:
    assert ChatError(ErrorCode.UNAVAILABLE, "x").permanent is False
    assert ChatError(ErrorCode.INVALID_ARGUMENT, "x").permanent is True
    assert ChatError(ErrorCode.UNAVAILABLE, "x", permanent=True).permanent is True


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"message": "hi", "x": 1}, "x is not a field this call takes."),
        ({}, "message is required."),
        ({"message": 5}, "message must be text."),
        ({"message": ""}, "message must not be empty."),
        ({"message": "x" * 4001}, "message must be at most 4000 characters."),
        ({"message": "\u200b "}, "message must not be blank."),
        ({"message": "a", "clientMessageId": "bad id"}, "clientMessageId must be 1 to 128 letters, digits, _ or -."),
        ("add 5", "The request must be an object of named fields."),
    ],
)
def test_rejected_input_is_explained_in_plain_words(data: object, message: str) -> None:
    from pydantic import ValidationError

    from firebase_ai_chat.firebase.callables import readable
    from firebase_ai_chat.models import MessageInput

    with pytest.raises(ValidationError) as raised:
        MessageInput.model_validate(data)
    assert readable(raised.value) == message
    assert "Value error" not in message and "Extra inputs" not in message
