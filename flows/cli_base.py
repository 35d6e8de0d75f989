"""What every ``iid`` command shares: the Typer app, the two consoles, the common options and how a
command fails (one line, no traceback)."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(help="Indeks Inovasi Daerah: ingest, validate, score and publish regional innovation data.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)

HomeOpt = Annotated[str | None, typer.Option("--home", help="IID home (default $IID_HOME, else ./data)")]
RunnerOpt = Annotated[str, typer.Option("--task-runner", help="default (this process) or dask (parse and validate "
                                        "file chunks on a Dask cluster)")]
CopyOpt = Annotated[str | None, typer.Option("--copy-to", help="also copy the releases to this folder or fsspec URL "
                                             "(s3://…, gs://…), with a catalog there (default $IID_COPY_TO)")]
DaskOpt = Annotated[str | None, typer.Option("--dask-address", help="Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                                             "(default with --task-runner dask: a local cluster of 2 workers)")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr, on one line however narrow the terminal, and end the command with
    ``code``. The message is not markup: it may quote SQL or paths with brackets."""
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)
