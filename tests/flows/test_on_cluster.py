"""A stage's chunks on a Dask cluster (``flows.annual.OnCluster``): as many in flight as keep every task slot
of the cluster busy, and files chunked for the slots (``flows.ingest.cluster_chunk_bytes``). Before, four
chunks were in flight whatever the cluster's size (a cluster of 32 workers ran four at a time), and a chunk
of files was 16 MB whatever the year's size (136 Prefect tasks to parse ten times a national year)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from flows import ingest
from flows.annual import SENT_PER_SLOT, OnCluster, _in_order, slots_of

MB = 1024 * 1024


def test_a_chunk_is_a_quarter_of_what_each_slot_gets_within_16_to_64_mb() -> None:
    low, high = ingest.CLUSTER_CHUNK_BYTES
    assert (low, high) == (16 * MB, 64 * MB)
    assert ingest.CHUNKS_PER_SLOT == 4
    national = 193 * MB  # a national year's drop zone (scale 1)
    assert ingest.cluster_chunk_bytes(national, 2) == national // 8  # the local cluster: ~24 MB, 8 chunks
    assert ingest.cluster_chunk_bytes(10 * national, 2) == high  # ten times that: 64 MB, ~30 chunks, not 240 MB
    assert ingest.cluster_chunk_bytes(10 * national, 32) == low  # 32 slots: 16 MB, ~120 chunks for 128 wanted
    assert ingest.cluster_chunk_bytes(10 * national, 8) == 10 * national // 32
    assert ingest.cluster_chunk_bytes(MB, 2) == low  # a small year: what a chunk sent is worth
    assert ingest.cluster_chunk_bytes(national, 0) == ingest.cluster_chunk_bytes(national, 1)  # no worker yet


def _drop_zone(tmp_path: Path, sizes: list[int]) -> tuple[Path, list[tuple[int, str]]]:
    for i, size in enumerate(sizes):
        (tmp_path / f"{i:03d}.json").write_bytes(b" " * size)
    return tmp_path, [(i, f"{i:03d}.json") for i in range(len(sizes))]


def test_chunks_are_planned_with_the_bytes_given_for_all_the_files_to_read(tmp_path: Path) -> None:
    raw, files = _drop_zone(tmp_path, [1000] * 12)
    asked: list[int] = []

    def per_chunk(total: int) -> int:
        asked.append(total)
        return 3000

    chunks = ingest.plan_chunks(raw, files, chunk_files=64, chunk_bytes=per_chunk)
    assert asked == [12_000]  # asked once, with the bytes of every file to read
    assert [len(c) for c in chunks] == [3, 3, 3, 3]
    assert [item for chunk in chunks for item in chunk] == files  # every file once, in order
    assert [len(c) for c in ingest.plan_chunks(raw, files, chunk_files=2, chunk_bytes=per_chunk)] == [2] * 6
    assert ingest.plan_chunks(raw, [], chunk_files=64, chunk_bytes=per_chunk) == []
    assert asked == [12_000, 12_000]  # nothing to read: not asked (the cluster's slots are not counted)
    assert [len(c) for c in ingest.plan_chunks(raw, files, chunk_files=64, chunk_bytes=5000)] == [5, 5, 2]


class _Future:
    def __init__(self, value: int, flight: list[int]) -> None:
        self.value, self.flight = value, flight

    def result(self) -> int:
        self.flight[0] -= 1
        return self.value


def _submitted(items: list[int], ahead: int) -> tuple[list[int], int, int]:
    """What ``_in_order`` yields for ``items``, the most futures it had in flight, and how often it asked for
    its limit."""
    flight, most, asked = [0], [0], [0]

    def submit(item: int) -> Any:
        flight[0] += 1
        most[0] = max(most[0], flight[0])
        return _Future(item * 10, flight)

    def limit() -> int:
        asked[0] += 1
        return ahead

    out = list(_in_order(submit, items, limit))
    return out, most[0], asked[0]


@pytest.mark.parametrize("ahead", [1, 4, 12])
def test_results_come_in_order_with_as_many_in_flight_as_the_limit(ahead: int) -> None:
    out, most, asked = _submitted(list(range(30)), ahead)
    assert out == [i * 10 for i in range(30)]
    assert most == ahead and asked == 1


def test_nothing_to_send_asks_for_no_limit() -> None:
    """The limit counts the cluster's slots, which starts the run's local cluster: not for a stage with nothing
    to send (a re-run with nothing changed starts no cluster)."""
    assert _submitted([], 4) == ([], 0, 0)
    assert _submitted([7], 4) == ([70], 1, 1)


def test_the_slots_are_counted_once() -> None:
    counted: list[int] = []

    def slots() -> int:
        counted.append(1)
        return 3

    cluster = OnCluster(slots)
    assert counted == []  # not when made
    assert cluster.in_flight() == SENT_PER_SLOT * 3 == 6
    assert cluster.chunk_bytes(10 * 193 * MB) == ingest.cluster_chunk_bytes(10 * 193 * MB, 3)
    assert counted == [1]


def test_the_slots_are_the_threads_of_the_clusters_workers() -> None:
    """What the cluster's scheduler counts: two workers of three threads each here, so twelve chunks in flight
    (the runs on a cluster in tests/flows/test_dask.py count their cluster's slots in the flow)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=3, processes=False, dashboard_address=None) as local, \
            Client(local) as client:
        assert slots_of(client) == 6
        assert OnCluster(lambda: slots_of(client)).in_flight() == 12
        local.scale(0)
        deadline = time.monotonic() + 30
        while client.nthreads() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slots_of(client) == 1  # no worker (yet): one, as a cluster that will run tasks as workers join
