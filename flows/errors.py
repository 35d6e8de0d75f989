"""How an error is told in one line: the messages of the CLI, the runs table and the release steps."""

from __future__ import annotations

import re
import signal


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


# A signal that arrives while DuckDB runs one of our Python functions in a query (a UDF: flows.privacy's
# iid_redact) is raised in that function; DuckDB ends the query with an error of its own that names only the
# exception's type and text: "Invalid Input Error: Python exception occurred while executing the UDF:
# KeyboardInterrupt: " (Ctrl-C), "...: Terminated: stopped by SIGTERM" (flows.process.Terminated) or
# "...: TerminationSignal: " (Prefect's, for SIGTERM during a flow).
#
# Likewise a signal raised in a function pydantic calls as it serializes (Prefect's context, sent with each task to
# a Dask worker, on the flow's thread: seen with a Ctrl-C as a run's first parse task was submitted): pydantic-core
# raises "PydanticSerializationError: Error calling function `_ser_model`: KeyboardInterrupt: " from it, and the
# signal's exception, its cause, is lost as Prefect passes the error on through the task's state.
_WRAPPED_STOP = re.compile(r"(?:Python exception occurred while executing the UDF|Error calling function `[^`]*`): "
                           r"(KeyboardInterrupt|Terminated|TerminationSignal): ?(?:stopped by (SIG[A-Z0-9]+))?")
_WRAPPERS = ("duckdb", "pydantic_core")  # the top-level modules whose errors tell of a signal so


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and its chain of causes (explicit or implicit), each once."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _signal_raised(e: BaseException) -> int | None:
    """The signal ``e`` stands for: :class:`flows.process.Terminated`'s, SIGINT for another KeyboardInterrupt,
    and that of Prefect's ``TerminationSignal`` (raised in the flow while it runs, told by its ``signal``
    attribute, so as not to import Prefect here), and DuckDB's or pydantic's error for one raised in a Python
    function it called; None for anything else."""
    from flows.process import Terminated

    if isinstance(e, Terminated):
        return e.signum
    if isinstance(e, KeyboardInterrupt):
        return signal.SIGINT
    signum = getattr(e, "signal", None)
    if not isinstance(e, Exception) and type(e).__name__ == "TerminationSignal" and isinstance(signum, int):
        return signum
    wrapped = (_WRAPPED_STOP.search(str(e)) if type(e).__module__.lstrip("_").split(".")[0] in _WRAPPERS
               else None)
    if wrapped is not None:
        name = wrapped[2] or ("SIGINT" if wrapped[1] == "KeyboardInterrupt" else "SIGTERM")
        return signal.Signals[name] if name in signal.Signals.__members__ else signal.SIGTERM
    return None


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` ends work the user (or a scheduler) stopped: KeyboardInterrupt (SIGTERM as
    :class:`flows.process.Terminated` included), Prefect's TerminationSignal, or DuckDB's error for a query
    a signal ended (:data:`DUCKDB_INTERRUPTED`, or one raised in a Python function the query ran), anywhere in
    its chain of causes. Such a run is not a failure of its year: it is stopped, and what follows it (a
    backfill's next year) is not begun."""
    return any(_signal_raised(e) is not None or (isinstance(e, RuntimeError) and str(e) == DUCKDB_INTERRUPTED)
               for e in _causes(exc))


def stop_signal(exc: BaseException) -> int | None:
    """The signal that stopped the work ``exc`` ends (:func:`interrupted`), the first its chain of causes
    tells; None when only DuckDB's error tells of it (either signal)."""
    return next((signum for signum in map(_signal_raised, _causes(exc)) if signum is not None), None)


def stop_exit_code(exc: BaseException) -> int:
    """The exit code of a command that work ``exc`` ends was stopped (:func:`interrupted`): 128 + the signal,
    SIGINT's when only DuckDB's error tells of it."""
    return 128 + (stop_signal(exc) or signal.SIGINT)


def stop_reason(exc: BaseException) -> str:
    """How work ``exc`` stopped is told (:func:`interrupted`): ``stopped by SIGTERM``, ``interrupted (Ctrl-C)``,
    or ``interrupted (Ctrl-C or SIGTERM)`` when only DuckDB's error tells of it."""
    signum = stop_signal(exc)
    if signum == signal.SIGINT:
        return "interrupted (Ctrl-C)"
    if signum is not None:
        return f"stopped by {signal.Signals(signum).name}"
    return "interrupted (Ctrl-C or SIGTERM)"
