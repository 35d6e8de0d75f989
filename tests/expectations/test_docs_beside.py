"""The Data Docs are built on a thread while DuckDB writes quarantine and data_quality; the stage waits for them."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from expectations import stage


def _slow_docs(made: list[str], fail: bool = False, block_ran: threading.Event | None = None) -> Any:
    def build(docs_dir: Path, run_name: str, results: dict[str, Any]) -> Path:
        if block_ran is not None:  # still rendering when the block has run: built beside it, not before
            made.append(f"beside the block: {block_ran.wait(timeout=30)}")
        else:
            time.sleep(0.2)
        if fail:
            raise OSError("disk full")
        made.append(f"{threading.current_thread().name}:{run_name}")
        return docs_dir / "index.html"
    return build


def test_the_docs_are_built_on_a_thread_and_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    block_ran = threading.Event()
    monkeypatch.setattr(stage, "build_docs", _slow_docs(made, block_ran=block_ran))
    with stage._docs_beside(tmp_path, "annual-2024", {}):
        block_ran.set()
    assert made[0] == "beside the block: True"
    assert len(made) == 2 and made[1].startswith("data-docs") and made[1].endswith(":annual-2024")
    with stage._docs_beside(None, "annual-2024", {}):
        pass
    assert len(made) == 2


def test_an_error_of_the_block_goes_first_and_the_docs_error_is_raised(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    monkeypatch.setattr(stage, "build_docs", _slow_docs(made))
    with pytest.raises(ValueError, match="model failed"), stage._docs_beside(tmp_path, "annual-2024", {}):
        raise ValueError("model failed")
    assert len(made) == 1  # the docs finished before the error left
    monkeypatch.setattr(stage, "build_docs", _slow_docs(made, fail=True))
    with pytest.raises(OSError, match="disk full"), stage._docs_beside(tmp_path, "annual-2024", {}):
        pass
    with pytest.raises(ValueError, match="model failed"), stage._docs_beside(tmp_path, "annual-2024", {}):
        raise ValueError("model failed")
