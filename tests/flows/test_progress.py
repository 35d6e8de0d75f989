"""On a terminal, ``iid run`` and ``iid backfill`` show what the run is doing at the foot of Prefect's log
(flows.progress): the stage, and how far it is where that is known."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.errors import MissingStyle
from rich.theme import Theme

from flows import progress
from flows.generator import generate_year
from flows.settings import Home, configure_prefect_defaults

YEAR = 2024
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _terminal(monkeypatch: pytest.MonkeyPatch) -> tuple[Console, io.StringIO]:
    """Prefect's console log handler writing to a terminal (a buffer said to be one), with a console made as
    Prefect makes its own: a theme of its own, not inheriting rich's default styles."""
    configure_prefect_defaults()
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()
    handlers = progress._prefect_consoles()
    assert handlers, "Prefect has no console log handler"
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=140, theme=Theme({}, inherit=False))
    for handler in handlers:
        monkeypatch.setattr(handler, "console", terminal)
    return terminal, screen


def test_a_run_on_a_terminal_shows_its_stages_and_how_far_each_is(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    terminal, screen = _terminal(monkeypatch)
    home = Home.resolve(tmp_path)
    generate_year(home, YEAR, seed=4, scale=0.01, defect_rate=0.1)
    files = len(list(home.raw_year(YEAR).glob("*.*"))) - len(list(home.raw_year(YEAR).glob("*.csv")))
    from flows.annual import run_annual

    with progress.displayed(str(YEAR), terminal=True):
        result = run_annual("default", year=YEAR, home=str(home.root))
    assert result["publish"]["published"]
    shown = ANSI.sub("", screen.getvalue())
    for what in (f"{YEAR} ingest: files read", f"{files}/{files}", f"{YEAR} validate: sid_answers, rows checked",
                 f"{YEAR} score: region_scores", "/11", f"{YEAR} publish: indicator_scores.parquet",
                 f"{YEAR} publish: region pages", "546/546", f"{YEAR} publish: the catalog"):
        assert what in shown, (what, shown[-3000:])
    # written beside the report, after the five tables the report reads: counted as the release's sixth of seven
    assert re.search(rf"{YEAR} publish: indicator_scores\.parquet [━╺╸ ]+ 5/7", shown), shown[-3000:]
    assert progress._shown is None  # the display is gone with the block
    with pytest.raises(MissingStyle):  # the styles lent to Prefect's console for the display are given back
        terminal.get_style("bar.back")


def test_a_display_that_fails_leaves_the_run_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """What goes wrong with the display (here, drawing it) turns the display off; the stages go on."""
    _terminal(monkeypatch)
    from rich.progress import Progress

    drawn: list[str] = []

    def broken(self: Progress, task: object, **fields: object) -> None:
        drawn.append(str(fields.get("description")))
        raise RuntimeError("the terminal went away")

    monkeypatch.setattr(Progress, "reset", broken)  # each new step's line
    monkeypatch.setattr(Progress, "update", broken)  # the same step's count
    with progress.displayed(str(YEAR), terminal=True):
        progress.show("ingest: files read", 1, 10)
        progress.show("ingest: files read", 2, 10)  # the display is off: not drawn again
        progress.show("validate: files, rows checked", 2)
    assert drawn == [f"{YEAR} ingest: files read"]


def test_without_a_terminal_nothing_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    _, screen = _terminal(monkeypatch)
    with progress.displayed(str(YEAR), terminal=False):
        assert progress._shown is None
        progress.show("ingest: files read", 1, 10)
    assert screen.getvalue() == ""


def test_a_step_s_last_count_is_drawn_before_the_next_step_replaces_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step's counts between the display's refreshes (1/10 s) are drawn at the next one, but its last count
    is drawn at once: a step that ends and is followed at once by the next (a small year's ingest) was shown
    without ever reaching its total, and the run's display test failed now and then on a busy machine."""
    _, screen = _terminal(monkeypatch)
    with progress.displayed(str(YEAR), terminal=True):
        progress.show("ingest: files read", 0, 566)
        progress.show("ingest: files read", 300, 566)  # between refreshes: may never be drawn
        progress.show("ingest: files read", 566, 566)
        progress.show("validate: files, rows checked", 1)
    shown = ANSI.sub("", screen.getvalue())
    assert re.search(rf"{YEAR} ingest: files read [━╺╸ ]+ 566/566", shown), shown
