"""Rendering on every core: a job over a list of tasks, split among forked worker processes.

The workers are forked, so they start with everything the parent holds (the model,
the layouts, the Markdown renderer) and receive only the bounds of a chunk of tasks.
This process works too, on a core of its own: n cores take n - 1 workers, each holding a
private copy of what it touches, and no process sits idle. Results come back in task order
whatever the split, so the output does not depend on it. Small jobs run in this process:
starting workers costs more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import signal
import threading
from collections import deque
from multiprocessing.connection import Connection
from typing import Any, Callable, Iterator, Sequence

MIN_COST = 400_000  # below this much work (about 40 explainers' text), one process is faster
CHUNKS_PER_WORKER = 16  # small enough chunks to even out, large enough to keep the pipe quiet
AHEAD = 4  # chunks a worker is given at a time: it has some waiting while this process is busy

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
        yield from _shared(chunks, n - 1)
    finally:
        _job, _tasks = None, ()


def _shared(chunks: list[tuple[int, int]], helpers: int) -> Iterator[Any]:
    """The chunks' results in order, computed by this process and `helpers` forked workers.

    A worker is given AHEAD chunks, and another for each it returns. This process takes the
    next chunk nobody has whenever the chunk due next is not done, and waits only when every
    chunk is taken. A thread for each worker reads its results as they come: a worker sending one
    bigger than the pipe holds would otherwise wait, idle, until this process is done with
    its own chunk.
    """
    context = multiprocessing.get_context("fork")
    given: dict[Connection, deque[int]] = {}
    arrived: queue.SimpleQueue[tuple[Connection, bytes | None]] = queue.SimpleQueue()
    processes, readers = [], []
    done: dict[int, list[Any]] = {}
    taken = due = 0

    def give(conn: Connection) -> None:
        nonlocal taken
        if taken < len(chunks):
            conn.send(chunks[taken])
            given[conn].append(taken)
            taken += 1

    def take(block: bool) -> None:
        try:
            conn, data = arrived.get(block)
        except queue.Empty:
            return
        if data is None:
            raise ChildProcessError("a rendering worker ended unexpectedly")
        ok, result = pickle.loads(data)
        if not ok:
            raise result
        done[given[conn].popleft()] = result
        give(conn)

    try:
        for _ in range(helpers):
            ours, theirs = context.Pipe()
            process = context.Process(target=_work, args=(theirs, [ours, *given]), daemon=True)
            process.start()
            theirs.close()
            processes.append(process)
            given[ours] = deque()
            readers.append(threading.Thread(target=_read, args=(ours, arrived), daemon=True))
            readers[-1].start()
            for _ in range(AHEAD):
                give(ours)
        while due < len(chunks):
            while not arrived.empty():
                take(block=False)
            if due in done:
                yield from done.pop(due)
                due += 1
            elif taken < len(chunks):
                taken += 1
                done[taken - 1] = _run_chunk(chunks[taken - 1])
            else:
                take(block=True)
    finally:
        for process in processes:
            process.terminate()  # one waiting for a chunk or at work: not needed any more
            process.join()
        for conn in given:
            conn.close()
        for reader in readers:
            reader.join()


def _read(conn: Connection, arrived: "queue.SimpleQueue[tuple[Connection, bytes | None]]") -> None:
    """Pass on each message from a worker as it comes; None once its pipe is closed."""
    try:
        while True:
            arrived.put((conn, conn.recv_bytes()))
    except (EOFError, OSError):
        arrived.put((conn, None))


def _work(conn: Connection, others: list[Connection]) -> None:
    """A worker: the result of each chunk it is given, until the pipe closes. It closes its
    copies of the parent's ends: the pipe then closes when the parent ends, however it ends."""
    _worker_signals()
    for other in others:
        other.close()
    while True:
        try:
            bounds = conn.recv()
        except EOFError:
            return
        try:
            reply = (True, _run_chunk(bounds))
        except Exception as exc:  # noqa: BLE001 - re-raised in the parent
            reply = (False, exc)
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - a result or an error that cannot be pickled
            conn.send((False, RuntimeError(f"a rendering worker could not send its result: {exc!r}")))


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
