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


# What DuckDB's Python client raises, in place of KeyboardInterrupt, when a signal (Ctrl-C's SIGINT, or the
# SIGTERM Prefect turns into an exception during a flow) arrives while a query runs: it checks for signals as
# the query goes, ends it, and raises this. To the code around it, it is an ordinary error.
DUCKDB_INTERRUPTED = "Query interrupted"


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` ends work the user (or a scheduler) stopped: KeyboardInterrupt, or DuckDB's error for a
    query a signal ended (:data:`DUCKDB_INTERRUPTED`), anywhere in its chain of causes. Such a run is not a
    failure of its year: it is stopped, and what follows it (a backfill's next year) is not begun."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KeyboardInterrupt) or (isinstance(current, RuntimeError)
                                                      and str(current) == DUCKDB_INTERRUPTED):
            return True
        current = current.__cause__ or current.__context__
    return False
