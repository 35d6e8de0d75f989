"""An error's text that quotes an operator's e-mail address or phone number reaches no log and no run row."""

from __future__ import annotations

import io
import logging

import pytest

from flows.privacy import redact, redact_log_records
from flows.runs import run_row

SECRET = "siti.rahasia@pemda-contoh.go.id"


@pytest.mark.parametrize(("text", "shown"), [
    (f"could not convert string to float: '{SECRET}'", "could not convert string to float: '[e-mail]'"),
    ("hubungi 081299990000 atau +62 812-3456-7890", "hubungi [phone] atau [phone]"),
    ("0812.9999.0000", "[phone]"),
    # what is not a phone number or an address stays as it is
    ("published release 2 of 2024: 35.78 scored 84.46 (0.81 s)", None),
    ("release=12 08123456, 2024-08-02T23:59:59+07:00, 6281234", None),
])
def test_redact(text: str, shown: str | None) -> None:
    assert redact(text) == (text if shown is None else shown)


def test_log_records_are_redacted_whatever_handler_writes_them() -> None:
    redact_log_records()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("iid.privacy-test")  # redacted where made, under any logger
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"could not convert string to float: '{SECRET}'")
        except ValueError:
            logger.exception("Task run failed for %s (phone %s)", SECRET, "081299990000")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "ValueError" in written and "Task run failed" in written
    assert SECRET not in written and "081299990000" not in written and "[e-mail]" in written


def test_a_failed_runs_message_is_redacted() -> None:
    row = run_row({"run_id": "r", "year": 2024}, status="failed", message=f"IO Error: {SECRET} 081299990000")
    assert row["message"] == "IO Error: [e-mail] [phone]"
