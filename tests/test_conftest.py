"""The test settings themselves."""

from __future__ import annotations

import importlib
import random
import struct

from conftest import WEBSOCKETS_RANDOM


def test_websockets_draws_leave_the_global_random_state_alone() -> None:
    """A keepalive ping of Prefect's events client, on its own thread, during a Hypothesis draw read as a strategy
    using ``random``: what websockets draws comes from a generator of its own in the tests."""
    state = random.getstate()
    for name in WEBSOCKETS_RANDOM:
        module = importlib.import_module(name)
        assert module.random is not random
        struct.pack("!I", module.random.getrandbits(32))  # as a ping's payload is drawn
        module.random.random()  # as a reconnect's backoff is
    assert random.getstate() == state
