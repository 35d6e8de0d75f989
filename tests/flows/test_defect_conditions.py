"""Conditions of defect kinds that a generated year's ledger tests may not happen to meet."""

from __future__ import annotations

import copy
from datetime import datetime
from random import Random

from factory import innovation, submission

from flows.generator.defects import BY_NAME, Target
from flows.values import WIB

DEADLINE = datetime(2024, 8, 2, 23, 59, 59, tzinfo=WIB)


def test_a_tie_is_made_only_on_the_version_that_counts() -> None:
    """SUB009 warns only on the counting submission: a draft tied with a superseded or late version would
    be a defect in the ledger that no rule reports (a year rarely draws one, so its tests would not see it)."""
    doc = submission("35.78", spd_total=40, innovations=[innovation("A-1", 50)])
    tie = BY_NAME["same_instant_tie"]

    def target(counts: bool) -> Target:
        return Target(copy.deepcopy(doc), "json", DEADLINE, frozenset(), frozenset(), (), counts)

    assert tie.inject(target(False), Random(1)) is None
    draft = target(True)
    injection = tie.inject(draft, Random(1))
    assert injection is not None and injection.as_copy and injection.copy_first
    assert draft.doc["submitted_at"] == doc["submitted_at"] and draft.doc != doc
