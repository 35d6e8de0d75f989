"""The messages loggers take while a block runs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def log_lines(*names: str, level: int = logging.DEBUG) -> Iterator[list[str]]:
    """The messages the loggers ``names`` ("" for the root) take while the block runs, in a list that grows; each
    logger is set to ``level`` meanwhile (the tests' Prefect logs from WARNING up) and put back as it was after."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    collect = Collect(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(collect)
        logger.setLevel(level)
    try:
        yield lines
    finally:
        for logger, before in zip(loggers, levels, strict=True):
            logger.removeHandler(collect)
            logger.setLevel(before)
