"""Parse many record files in worker processes, results in input order.

A feed of thousands of small records (an OSV ecosystem) is parsed record by record, and each
record's parse is independent, so the files are split into chunks and handed to a process
pool of one worker per CPU (``SPYGLASS_PARSE_WORKERS`` overrides; ``1`` parses in-process).
Small inputs are parsed in-process: starting workers would cost more than it saves.

Workers are forked on Linux: they start in milliseconds and inherit the parser modules
already imported, where a spawned worker would import them again (about as long as the parse
it is meant to speed up). The parent may have other threads (a service); the children only
run parse code that takes none of their locks. The feeds of one update share one pool
(:func:`shared_workers`), and every worker parses with the garbage collector paused.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import TypeVar

from spyglass.errors import FeedError

WORKERS_ENV = "SPYGLASS_PARSE_WORKERS"
MIN_ITEMS = 200
"""Below this many files, parsing in-process is faster than starting workers."""
CHUNKS_PER_WORKER = 4
"""Several chunks per worker, so that one chunk of large files does not leave a CPU idle."""

T = TypeVar("T")
R = TypeVar("R")

# Per thread (and task), so that concurrent updates never share or close each other's pool.
_SHARED: ContextVar[ProcessPoolExecutor | None] = ContextVar("spyglass_parse_pool", default=None)


def worker_count() -> int:
    """``SPYGLASS_PARSE_WORKERS`` when set (at least 1), else the CPUs this process may use."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured.isdigit():
        return max(1, int(configured))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def chunks(items: Sequence[T], count: int) -> list[Sequence[T]]:
    """``items`` cut into at most ``count`` consecutive runs of near-equal length."""
    size = max(1, -(-len(items) // max(1, count)))
    return [items[start : start + size] for start in range(0, len(items), size)]


def map_chunks(parse: Callable[[Sequence[T]], R], items: Sequence[T]) -> Iterator[R]:
    """``parse`` of consecutive chunks of ``items``, in order; in workers when it pays.

    ``parse`` must be a module-level function (it is pickled by name). An exception raised
    in a worker is raised here, when its chunk's turn comes. Inside :func:`shared_workers`
    the pool is that one; otherwise a pool lives for this call only.
    """
    workers = worker_count()
    if workers < 2 or len(items) < MIN_ITEMS:
        yield parse(items)
        return
    shared = _SHARED.get()
    pool = shared or _new_pool(workers)
    try:
        yield from pool.map(partial(_in_bulk, parse), chunks(items, workers * CHUNKS_PER_WORKER))
    except BrokenProcessPool as exc:
        raise FeedError(
            f"a parse worker died ({exc}); retry, or set {WORKERS_ENV}=1 to parse in-process"
        ) from exc
    finally:
        if pool is not shared:
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def shared_workers() -> Iterator[None]:
    """One pool for every :func:`map_chunks` inside (the feeds of one update), started once.

    Starting and stopping workers costs tens of milliseconds, a tenth of parsing a feed.
    """
    workers = worker_count()
    if workers < 2 or _SHARED.get() is not None:
        yield
        return
    pool = _new_pool(workers)
    token = _SHARED.set(pool)
    try:
        yield
    finally:
        _SHARED.reset(token)
        pool.shutdown(wait=True, cancel_futures=True)


def _new_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("fork") if _can_fork() else None
    return ProcessPoolExecutor(workers, mp_context=context)


def _in_bulk(parse: Callable[[Sequence[T]], R], items: Sequence[T]) -> R:
    with bulk():
        return parse(items)


def _can_fork() -> bool:
    # Only Linux: macOS offers fork, but system frameworks break in a forked child.
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects that all stay alive.

    Each collection would walk every object built so far, only to find nothing to free; the
    collector's own thresholds are restored afterwards (a paused collector stays paused).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
