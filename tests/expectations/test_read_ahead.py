"""read_ahead: the validate stage reads a suite's next frame on a thread while GX validates one."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from expectations.stage import read_ahead


def test_items_come_in_order_and_all_of_them() -> None:
    assert list(read_ahead(iter(range(50)))) == list(range(50))
    assert list(read_ahead(iter([]))) == []


def test_the_next_item_is_produced_while_the_caller_holds_one() -> None:
    started = threading.Event()

    def items() -> Iterator[int]:
        yield 1
        started.set()
        yield 2

    ahead = read_ahead(items())
    assert next(ahead) == 1
    # the caller has not asked for item 2, yet it is being produced (without reading ahead: a 5 s wait, False)
    assert started.wait(timeout=5)
    assert list(ahead) == [2]


def test_an_error_of_the_producer_is_raised_at_its_item() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise ValueError("frame 2 could not be read")

    ahead = read_ahead(items())
    assert next(ahead) == 1
    with pytest.raises(ValueError, match="frame 2"):
        next(ahead)


def test_closing_early_waits_for_the_item_being_produced() -> None:
    release = threading.Event()
    finished: list[int] = []

    def items() -> Iterator[int]:
        for i in range(5):
            if i == 1:
                release.wait(timeout=10)
            finished.append(i)
            yield i

    ahead = read_ahead(items())
    assert next(ahead) == 0
    threading.Timer(0.2, release.set).start()
    ahead.close()  # returns only once item 1, in flight, is done: nothing reads on after the caller stopped
    assert finished == [0, 1]
