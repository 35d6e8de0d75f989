"""Named pause points for fault tests: a test kills the process (``kill -9``) while it waits here.

Set ``IID_PAUSE_AT=<point>`` (and ``IID_PAUSE_FILE=<path>``): on reaching the point the process writes
the file and sleeps, so the test can kill it at exactly that moment. Unset, this does nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def pause_point(name: str) -> None:
    if os.environ.get("IID_PAUSE_AT") != name:
        return
    marker = os.environ.get("IID_PAUSE_FILE")
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(600)
