"""How an error is told in one line: the messages of the CLI, the runs table and the release steps."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (DuckDB's go on with the SQL around the fault), or its type's
    name when it has no text."""
    return (str(exc).splitlines() or [""])[0] or type(exc).__name__


def os_reason(exc: BaseException) -> str:
    """Why a file operation failed: the system's words for an OSError (``No space left on device``,
    without the path the message names anyway), else :func:`first_line`."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return first_line(exc)
