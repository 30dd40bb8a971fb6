"""Rendering on every core: a job over a list of tasks, split among forked worker processes.

The workers are forked, so they start with everything the parent holds (the model,
the layouts, the Markdown renderer) and receive only task numbers. Results come back
in task order whatever the split, so the output does not depend on it. Small jobs run
in this process: starting workers costs more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from typing import Any, Callable, Iterator, Sequence

MIN_COST = 400_000  # below this much work (about 40 explainers' text), one process is faster
CHUNKS_PER_WORKER = 8  # small enough chunks to even out, large enough to keep the pipe quiet

_job: Callable[[Sequence[Any]], list[Any]] | None = None
_tasks: Sequence[Any] = ()


def workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run(job: Callable[[Sequence[Any]], list[Any]], tasks: Sequence[Any],
        cost: Callable[[Any], int] = lambda task: 10_000) -> list[Any]:
    """job(tasks), computed in chunks by worker processes when that pays; results in task order."""
    return list(stream(job, tasks, cost))


def stream(job: Callable[[Sequence[Any]], list[Any]], tasks: Sequence[Any],
           cost: Callable[[Any], int] = lambda task: 10_000) -> Iterator[Any]:
    """Like run(), yielding each result in task order as soon as its chunk is done."""
    n = workers()
    total = sum(cost(task) for task in tasks)
    chunks = _chunks(tasks, cost, total, max(1, n) * CHUNKS_PER_WORKER)
    if n < 2 or total < MIN_COST or "fork" not in multiprocessing.get_all_start_methods():
        for start, end in chunks:
            yield from job(tasks[start:end])
        return
    global _job, _tasks
    _job, _tasks = job, tasks
    try:
        with multiprocessing.get_context("fork").Pool(n, initializer=_worker_signals) as pool:
            for part in pool.imap(_run_chunk, chunks, chunksize=1):
                yield from part
    finally:
        _job, _tasks = None, ()


def _worker_signals() -> None:
    """A worker forked from serve's build thread inherits asyncio's signal set-up: handlers
    that do nothing but report each signal to serve's event loop. The pool ends its workers
    with SIGTERM, so they would never end (the build hangs) and serve would stop as if told
    to. Workers get Python's own signal handling instead, and report to no one."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _chunks(tasks: Sequence[Any], cost: Callable[[Any], int], total: int, count: int) -> list[tuple[int, int]]:
    """Consecutive (start, end) ranges of about equal cost."""
    ranges, start, acc, step = [], 0, 0, max(1, total // count)
    for i, task in enumerate(tasks):
        acc += cost(task)
        if acc >= step:
            ranges.append((start, i + 1))
            start, acc = i + 1, 0
    if start < len(tasks):
        ranges.append((start, len(tasks)))
    return ranges


def _run_chunk(bounds: tuple[int, int]) -> list[Any]:
    start, end = bounds
    return _job(_tasks[start:end])
