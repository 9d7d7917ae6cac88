"""Structured logs: the library's ``logging`` records written through ``firebase_functions.logger``.

The core logs with the standard ``logging`` module and puts ``chatId``,
``dispatchId`` and ``assistantId`` in each record's ``extra``. The handler
installed by ``structured_logging()`` writes every record as one JSON entry
with those as fields (and ``severity``, ``logger``), which Cloud Logging
indexes and the emulator prints; an exception's traceback goes along as
``exception``.
"""

from __future__ import annotations

import logging

from firebase_functions import logger

FIELDS = ("chatId", "dispatchId", "assistantId", "userId", "code")
"""Record attributes written as fields of the entry when present."""

_SEVERITY = {
    logging.DEBUG: logger.LogSeverity.DEBUG,
    logging.INFO: logger.LogSeverity.INFO,
    logging.WARNING: logger.LogSeverity.WARNING,
    logging.ERROR: logger.LogSeverity.ERROR,
    logging.CRITICAL: logger.LogSeverity.CRITICAL,
}


class FirebaseLogHandler(logging.Handler):
    """Writes records as structured entries through ``firebase_functions.logger``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry: dict[str, object] = {
                "severity": _SEVERITY.get(record.levelno, logger.LogSeverity.INFO),
                "message": record.getMessage(),
                "logger": record.name,
            }
            entry.update({key: getattr(record, key) for key in FIELDS if getattr(record, key, None) is not None})
            if record.exc_info:
                entry["exception"] = self.formatException(record.exc_info)
            logger.write(entry)  # type: ignore[arg-type]
        except Exception:
            self.handleError(record)

    def formatException(self, exc_info: object) -> str:  # noqa: N802 - logging's name
        return logging.Formatter().formatException(exc_info)  # type: ignore[arg-type]


def structured_logging(level: int = logging.INFO) -> None:
    """Route the root logger through ``FirebaseLogHandler`` (once; call it at import of ``main.py``)."""
    root = logging.getLogger()
    if not any(isinstance(handler, FirebaseLogHandler) for handler in root.handlers):
        root.addHandler(FirebaseLogHandler())
    root.setLevel(level)
