"""What every ``iid`` command shares: the Typer app, the two consoles, the common options and how a
command fails (one line, no traceback)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from flows.privacy import redact
from flows.settings import Home

try:  # Typer carries its own copy of click from 0.2x on
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - an older Typer on click
    from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[assignment]


class OneLineUsage(TyperGroup):
    """The ``iid`` group: a usage error (a mistyped option or command, a value of the wrong type, a missing
    option) ends in one ``error:`` line saying where the options are, as every other error does, not in
    Rich's boxed panel under the usage lines; no arguments still show the help."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as exc:
            usage_failed(exc)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            usage_failed(exc)


def usage_failed(exc: UsageError) -> NoReturn:
    """End the command with ``exc`` as one line (exit 2), or show the help when no command was given."""
    if isinstance(exc, NoArgsIsHelpError):
        raise exc
    where = f"; see '{exc.ctx.command_path} --help'" if exc.ctx is not None else ""
    fail(f"{exc.format_message().rstrip('.')}{where}", exc.exit_code)


app = typer.Typer(help="Indeks Inovasi Daerah: ingest, validate, score and publish regional innovation data.",
                  cls=OneLineUsage, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


UNBOUNDED_WIDTH = 10_000  # a table as wide as its content, where output is not a terminal


def make_console(stderr: bool = False) -> Console:
    """A console for a terminal, or, where output is not one (a log file, a pipe), one that neither breaks a
    line of text nor squeezes a table into 80 columns: rich's default there broke a summary line in two and
    cut a table's dates and hashes to ``2026-12-0…``. ``$COLUMNS`` still sets the width if given."""
    made = Console(stderr=stderr)
    if not made.is_terminal:
        made.soft_wrap = True
        if not os.environ.get("COLUMNS"):
            made.width = UNBOUNDED_WIDTH
    return made


console = make_console()
err = make_console(stderr=True)

HomeOpt = Annotated[str | None, typer.Option("--home", help="IID home (default $IID_HOME, else ./data)")]
RunnerOpt = Annotated[str, typer.Option("--task-runner", help="default (this process) or dask (parse and validate "
                                        "file chunks on a Dask cluster)")]
CopyOpt = Annotated[str | None, typer.Option("--copy-to", help="also copy the releases to this folder or fsspec URL "
                                             "(s3://…, gs://…), with a catalog there (default $IID_COPY_TO)")]
DaskOpt = Annotated[str | None, typer.Option("--dask-address", help="Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                                             "(default with --task-runner dask: a local cluster of 2 workers)")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr, on one line however narrow the terminal, and end the command with
    ``code``. The message is not markup: it may quote SQL or paths with brackets; nor does it quote an
    e-mail address or phone number an error's text echoed (:func:`flows.privacy.redact`)."""
    err.print(f"[bold red]error:[/] {escape(redact(message))}", soft_wrap=True)
    raise typer.Exit(code)


HOME_ADVICE = "give --home (or $IID_HOME) a folder you can write to; it is created if missing"


def _not_a_folder(path: Path) -> Path | None:
    """The first existing part of ``path`` that is not a folder (a file where a folder must be), if any."""
    for part in (*reversed(path.parents), path):
        if part.exists() and not part.is_dir():
            return part
    return None


def writable_folder(path: Path, advice: str) -> None:
    """Create ``path`` if missing and check that a file can be written in it; otherwise fail in one line
    naming the folder, why, and ``advice`` (what to do)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        blocker = _not_a_folder(path)
        reason = (f"{blocker} is a file, not a folder" if blocker is not None
                  else f"{exc.strerror or type(exc).__name__}: {exc.filename or path}")
        fail(f"cannot write in {path} ({reason}); {advice}")


READ_ADVICE = "give --home (or $IID_HOME) the folder 'iid run' published into"


def existing_home(home: str | None) -> Home:
    """The home of ``--home`` (else ``$IID_HOME``, else ``./data``) for a command that only reads it: a
    one-line error when it is missing or not a folder (rather than reading it as a home with nothing)."""
    try:
        target = Home.resolve(home)
    except (OSError, RuntimeError) as exc:  # e.g. a symbolic link loop
        fail(f"home {home}: {exc}; {READ_ADVICE}")
    try:
        found = target.root.is_dir()
    except OSError as exc:  # e.g. a folder on the way that cannot be searched
        fail(f"cannot read the home {target.root} ({exc.strerror or exc}); {READ_ADVICE}")
    if not found:
        blocker = _not_a_folder(target.root)
        fail(f"no home at {target.root} ({f'{blocker} is a file, not a folder' if blocker else 'no such folder'}); "
             f"{READ_ADVICE}")
    return target


def writable_home(home: str | None, folder: Callable[[Home], Path] = lambda h: h.root) -> Home:
    """The home of ``--home`` (else ``$IID_HOME``, else ``./data``) with ``folder(home)`` created and
    writable, before a command starts work there; otherwise a one-line error saying what to do."""
    try:
        target = Home.resolve(home)
    except (OSError, RuntimeError) as exc:  # e.g. a symbolic link loop
        fail(f"home {home}: {exc}; {HOME_ADVICE}")
    writable_folder(folder(target), HOME_ADVICE)
    return target


def server_answers(url: str) -> None:
    """Fail in one line when nothing answers at the Prefect API ``url`` (not started, not up yet: a server started
    in the background takes some seconds, a wrong address). Asked directly, not through Prefect's client, whose
    settings are fixed for the process when Prefect is first imported. Any HTTP answer will do: a server is
    there (Prefect Cloud may want a key for this page); what else is wrong, serving says."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=15):
            pass
    except urllib.error.HTTPError:
        pass
    except (OSError, ValueError) as exc:  # URLError is an OSError; ValueError: not a URL at all
        reason = getattr(exc, "reason", None) or exc
        fail(f"no Prefect server answers at {url} ({reason}); start one (prefect server start) and wait until it "
             "is up, or point PREFECT_API_URL at a running one")
