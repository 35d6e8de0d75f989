"""What an error's text may quote of the input must not reach the runs view or a log.

An error raised on a value it could not handle (a converter, DuckDB, a reader) can quote that value,
and a value can be an operator's e-mail address or phone number. Messages stored with a failed run
and every log record of the process are passed through :func:`redact`. (Names cannot be told from
other text; the readers and the suites never put an operator's fields into a message.)
"""

from __future__ import annotations

import logging
import re
from typing import Any

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# an Indonesian mobile number: 08…, 62 8… or +62 8…, 9–13 digits, spaces, dots or hyphens between them
_PHONE = re.compile(r"(?<![\w.])(?:\+?62|0)[\s.-]?8(?:[\s.-]?\d){7,11}(?![\w.])")
_installed = False


def redact(message: str) -> str:
    """A message with every e-mail address and Indonesian mobile number in it replaced by a mark."""
    if "@" not in message and "8" not in message:  # most log lines: nothing to look for
        return message
    return _PHONE.sub("[phone]", _EMAIL.sub("[e-mail]", message))


def redact_log_records() -> None:
    """Every log record made from now on carries its message (and its traceback's text) redacted.

    Done where records are made (the record factory), so it holds for Prefect's console and API
    handlers alike, whatever handlers a logging configuration installs later. Idempotent."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed %-format: leave it to the handler to report
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
