"""Log records reach Cloud Logging as structured entries with the chat's ids as fields (no servers)."""

from __future__ import annotations

import json
import logging

import pytest

from firebase_ai_chat.firebase.logs import FirebaseLogHandler


def test_a_record_is_one_json_entry_with_the_chat_fields(capsys: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("firebase_ai_chat.test")
    log.addHandler(handler := FirebaseLogHandler())
    try:
        log.warning("call rejected (%s)", "invalid-argument", extra={"chatId": "c1", "code": "invalid-argument"})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("tool raised", extra={"chatId": "c1", "dispatchId": "d1", "assistantId": "calc"})
    finally:
        log.removeHandler(handler)
    out, err = capsys.readouterr()
    warning = json.loads(out.strip().splitlines()[-1])
    assert warning == {
        "severity": "WARNING",
        "message": "call rejected (invalid-argument)",
        "logger": "firebase_ai_chat.test",
        "chatId": "c1",
        "code": "invalid-argument",
    }
    error = json.loads(err.strip().splitlines()[-1])
    assert (error["severity"], error["dispatchId"], error["assistantId"]) == ("ERROR", "d1", "calc")
    assert "RuntimeError: boom" in error["exception"]
