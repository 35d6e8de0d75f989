"""Settings in one place: home directory, reference data, Prefect defaults.

Nothing here imports Prefect or Great Expectations, so the CLI starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flows.privacy import redact_log_records

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def reference_dir() -> Path:
    """Folder with the region master and the methodology files (``$IID_REFERENCE`` overrides)."""
    return Path(os.environ.get("IID_REFERENCE", PROJECT_ROOT / "data" / "reference")).resolve()


@dataclass(frozen=True)
class Home:
    """The folders of one IID home: raw drop zone, private warehouse, published snapshots."""

    root: Path

    @classmethod
    def resolve(cls, home: str | Path | None = None) -> Home:
        """``--home`` if given, else ``$IID_HOME``, else ``./data``."""
        chosen = home or os.environ.get("IID_HOME") or "data"
        return cls(Path(chosen).expanduser().resolve())

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    def raw_year(self, year: int) -> Path:
        return self.raw / str(year)

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    def work_db(self, year: int) -> Path:
        """Private working database of one year (landing, validation, scoring)."""
        return self.warehouse / "work" / f"{year}.duckdb"

    def docs_dir(self, year: int) -> Path:
        """Data Docs of the year's latest validation, copied into the release at publish."""
        return self.warehouse / "work" / f"{year}-validation"

    def report_pages(self, year: int) -> Path:
        """What the pages of the year's last release build showed, for the next one to carry over
        (``flows/report/pages.py``)."""
        return self.warehouse / "work" / f"{year}-report-pages.json"

    def private_dir(self, year: int) -> Path:
        """Private landing area for personal data (operator contacts); never published."""
        return self.warehouse / "private" / str(year)

    @property
    def catalog(self) -> Path:
        return self.warehouse / "iid.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "published"

    def published_year(self, year: int) -> Path:
        return self.published / f"year={year}"


def configure_prefect_defaults() -> None:
    """Safe defaults for Prefect on a machine without internet; the user's own settings win.

    Must run before ``prefect`` is imported.
    """
    defaults = {
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    redact_log_records()  # no log line quotes an e-mail address or phone number an error echoed
    if os.environ.get("PREFECT_API_URL", None) == "":
        # An empty API URL floods the log with EventsWorker errors; unset means ephemeral.
        del os.environ["PREFECT_API_URL"]


@contextmanager
def environment_restored() -> Iterator[None]:
    """``os.environ`` as it was before the block, however the block ends: a run sets Prefect's defaults
    (:func:`configure_prefect_defaults`) and ``PREFECT_API_URL`` (the early server of
    :mod:`flows.tempserver`), which must not outlive the command in a process that goes on (a test, a
    notebook): its later flows would be sent to that server. So must Prefect's settings, which it read
    as it was imported, or again as :func:`flows.tempserver.adopt` set the URL: those it had before the
    block are put back, and if it was imported in the block, it reads them again from the restored
    environment. The server itself runs until the process exits, so what the run's log and event
    workers still hold reaches it."""
    saved = dict(os.environ)
    context = sys.modules.get("prefect.context")
    settings = getattr(context, "GLOBAL_SETTINGS_CONTEXT", None)
    try:
        yield
    finally:
        changed = dict(os.environ) != saved
        for key in [k for k in os.environ if k not in saved]:
            del os.environ[key]
        os.environ.update({k: v for k, v in saved.items() if os.environ.get(k) != v})
        if context is not None and settings is not None:
            vars(context)["GLOBAL_SETTINGS_CONTEXT"] = settings
        elif changed and (loaded := sys.modules.get("prefect.context")) is not None:
            loaded.refresh_global_settings_context()
