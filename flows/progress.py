"""What a run is doing, as a line at the foot of a terminal: the stages say it here (:func:`show`), and
``iid run`` and ``iid backfill`` display it while a year runs (:func:`displayed`), on a terminal only.

Prefect's console log goes on above the line: the display is drawn by the console of Prefect's own log
handler, so its lines are not overwritten (a log line written past a live display by another console is
drawn over by the display's next refresh). Without a display, :func:`show` does nothing (a log file, a
pipe, the tests, a flow started from Python or by a Prefect deployment).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

_shown: Callable[[str, int | None, int | None], None] | None = None


def show(what: str, done: int | None = None, total: int | None = None) -> None:
    """Say what the run is doing now (``ingest: files read``), with how far it is (``done`` of ``total``,
    either None when not known), where a display is up."""
    if _shown is not None:
        _shown(what, done, total)


def _prefect_consoles() -> list[Any]:
    """Prefect's console log handlers (once Prefect has set up its logging)."""
    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict.values()
                                      if isinstance(logger, logging.Logger))]
    found: list[Any] = []
    for logger in loggers:
        found.extend(h for h in logger.handlers if isinstance(h, PrefectConsoleHandler) and h not in found)
    return found


@contextmanager
def displayed(label: str, terminal: bool) -> Iterator[None]:
    """While the block runs, show what :func:`show` is told, after ``label`` (``2024``), under Prefect's log;
    nothing unless ``terminal`` (the command's error output is one). The display starts with the first
    :func:`show` (by then Prefect has set up its logging) and is gone when the block ends."""
    global _shown
    if not terminal:
        yield
        return
    from rich.default_styles import DEFAULT_STYLES
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
    from rich.theme import Theme

    state: dict[str, Any] = {}

    def start(what: str) -> tuple[Progress, TaskID]:
        handlers = _prefect_consoles()
        if not handlers or not handlers[0].console.is_terminal:
            raise LookupError("no console log on a terminal")
        console = handlers[0].console
        # Prefect's console has its own theme only (no inheritance): the display's styles are lent to it
        console.push_theme(Theme({k: v for k, v in DEFAULT_STYLES.items() if k.startswith(("bar.", "progress."))},
                                 inherit=False))
        state["console"] = console
        state["swapped"] = [(h, h.console) for h in handlers[1:]]
        for handler, _ in state["swapped"]:
            handler.console = console  # one console draws the display and every log line above it
        bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=30),
                       TextColumn("{task.fields[count]}"), TimeElapsedColumn(), console=console, transient=True)
        task = bar.add_task(f"{label} {what}", total=None, count="")
        bar.start()
        return bar, task

    def shown(what: str, done: int | None, total: int | None) -> None:
        if "off" in state:
            return
        try:
            if "bar" not in state:
                state["bar"], state["task"] = start(what)
            count = f"{done:,}/{total:,}" if done is not None and total else "" if done is None else f"{done:,}"
            if what != state.get("what"):  # a new step: its own bar and time (a finished one stays finished)
                state["what"] = what
                state["bar"].reset(state["task"], description=f"{label} {what}", completed=done or 0, total=total,
                                   count=count)
                state["bar"].refresh()
            else:
                state["bar"].update(state["task"], completed=done or 0, total=total, count=count)
                if total and done == total:  # a step's last count is drawn now, not at the display's next
                    state["bar"].refresh()   # refresh (1/10 s), by which the next step may have replaced it
        except Exception:  # the display is never worth a run: it goes, the run goes on
            state["off"] = True
            if "bar" in state:
                with suppress(Exception):
                    state["bar"].stop()

    _shown = shown
    try:
        yield
    finally:
        _shown = None
        if "bar" in state:
            with suppress(Exception):  # as above: an error of the display is not the command's
                state["bar"].stop()
        if "console" in state:
            state["console"].pop_theme()
        for handler, console in state.get("swapped", []):
            handler.console = console
