"""Parsing in worker processes: same results in the same order as in-process, errors surface."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from spyglass.errors import FeedError
from spyglass.vulndb.feeds import parallel
from spyglass.vulndb.feeds.osv import OsvFeed
from spyglass.vulndb.feeds.parallel import (
    WORKERS_ENV,
    bulk,
    chunks,
    map_chunks,
    shared_workers,
    worker_count,
)


def _square_with_pid(items: Sequence[int]) -> list[tuple[int, int]]:
    return [(item * item, os.getpid()) for item in items]


def _fail_on_seven(items: Sequence[int]) -> list[int]:
    if 7 in items:
        raise FeedError("record 7 is broken")
    return list(items)


@pytest.mark.parametrize(("length", "count"), [(0, 4), (1, 4), (10, 3), (10, 10), (1000, 8)])
def test_chunks_cover_items_in_order(length: int, count: int) -> None:
    items = list(range(length))
    found = chunks(items, count)
    assert [i for chunk in found for i in chunk] == items
    assert len(found) <= count and all(found)


def test_worker_count_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert worker_count() == 3
    monkeypatch.setenv(WORKERS_ENV, "0")
    assert worker_count() == 1
    monkeypatch.setenv(WORKERS_ENV, "many")
    assert worker_count() == len(os.sched_getaffinity(0))


def test_workers_give_the_in_process_result(monkeypatch: pytest.MonkeyPatch) -> None:
    items = list(range(parallel.MIN_ITEMS * 2))
    monkeypatch.setenv(WORKERS_ENV, "1")
    alone = list(map_chunks(_square_with_pid, items))
    monkeypatch.setenv(WORKERS_ENV, "2")
    pooled = list(map_chunks(_square_with_pid, items))
    assert [v for part in pooled for v, _ in part] == [v for part in alone for v, _ in part]
    assert {pid for part in pooled for _, pid in part} - {os.getpid()}  # really elsewhere
    assert len(pooled) == 2 * parallel.CHUNKS_PER_WORKER


def test_shared_workers_serve_every_call_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "2")
    items = list(range(parallel.MIN_ITEMS * 2))

    def pids() -> set[int]:
        return {pid for part in map_chunks(_square_with_pid, items) for _, pid in part}

    with shared_workers():
        first, second = pids(), pids()
    assert os.getpid() not in first | second
    assert len(first | second) <= 2  # the same two workers served both calls
    assert not pids() & (first | second)  # a call outside starts (and stops) its own


def test_small_inputs_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "2")
    (part,) = map_chunks(_square_with_pid, list(range(10)))
    assert {pid for _, pid in part} == {os.getpid()}


def test_worker_error_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "2")
    with pytest.raises(FeedError, match="record 7 is broken"):
        list(map_chunks(_fail_on_seven, list(range(parallel.MIN_ITEMS * 2))))


def test_bulk_pauses_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with bulk():
        assert not gc.isenabled()
        with bulk():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.realdata
def test_real_set_parsed_in_workers_equals_in_process(
    testdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = testdata / "advisories/osv-almalinux9/advisories"
    monkeypatch.setenv(WORKERS_ENV, "1")
    alone = OsvFeed("AlmaLinux").parse(folder)
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert OsvFeed("AlmaLinux").parse(folder) == alone
