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
import socket
import struct
import threading
from typing import Any, Callable, Iterator, Sequence

MIN_COST = 400_000  # below this much work (about 40 explainers' text), one process is faster
CHUNKS_PER_WORKER = 16  # small enough chunks to even out at the end, large enough to keep the socket quiet

_job: Callable[[Sequence[Any]], list[Any]] | None = None
_tasks: Sequence[Any] = ()


def workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run(job: Callable[[Sequence[Any]], list[Any]], tasks: Sequence[Any],
        cost: Callable[[Any], int] = lambda task: 10_000) -> list[Any]:
    """job(tasks), computed in chunks by this process and forked workers when that pays; results in task order."""
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

    Whoever is free takes the next chunk: a thread for each worker gives it one as soon as it
    is done with the last, and this process takes one whenever the chunk due next is not
    done; it waits only when every chunk is taken. The thread reads a result in one call that
    lets go of the interpreter until the whole result is in (`_exactly`): read piece by piece,
    each piece would wait its turn for the interpreter while this process renders, and the
    worker with it.
    """
    lock = threading.Lock()
    order = iter(range(len(chunks)))

    def claim() -> int | None:
        with lock:
            return next(order, None)

    arrived: queue.SimpleQueue[tuple[int | None, bytearray | BaseException | None]] = queue.SimpleQueue()
    done: dict[int, list[Any]] = {}

    def receive(number: int | None, data: bytearray | BaseException | None) -> None:
        if isinstance(data, BaseException):
            raise data
        if number is None or data is None:
            raise ChildProcessError("a rendering worker ended unexpectedly")
        ok, result = pickle.loads(data)
        if not ok:
            raise result
        done[number] = result

    processes, feeders, ends = [], [], []
    try:
        for _ in range(helpers):
            ours, theirs = socket.socketpair()
            ends.append(ours)
            process = multiprocessing.get_context("fork").Process(target=_work, args=(theirs, ends), daemon=True)
            process.start()
            theirs.close()
            processes.append(process)
            feeders.append(threading.Thread(target=_feed, args=(ours, chunks, claim, arrived), daemon=True))
            feeders[-1].start()
        due = 0
        while due < len(chunks):
            while not arrived.empty():
                receive(*arrived.get())
            if due in done:
                yield from done.pop(due)
                due += 1
            elif (number := claim()) is not None:
                done[number] = _run_chunk(chunks[number])
            else:
                receive(*arrived.get())
    finally:
        for process in processes:
            process.terminate()  # one waiting for a chunk or at work: not needed any more
            process.join()
        for feeder in feeders:
            feeder.join()
        for end in ends:
            end.close()


def _feed(end: socket.socket, chunks: list[tuple[int, int]], claim: Callable[[], int | None],
          arrived: "queue.SimpleQueue[tuple[int | None, bytearray | BaseException | None]]") -> None:
    """Give a worker the next chunk nobody has, as long as there is one, and pass on its
    result, pickled; None for it if the worker ended, and any other error this thread meets
    (no memory for a result): the build's thread waits for what comes here, so it must come."""
    number = None
    try:
        while (number := claim()) is not None:
            end.sendall(_BOUNDS.pack(*chunks[number]))
            arrived.put((number, _exactly(end, *_SIZE.unpack(_exactly(end, _SIZE.size)))))
    except (EOFError, OSError):
        arrived.put((number, None))
    except BaseException as exc:  # noqa: BLE001 - raised in the build's thread
        arrived.put((number, exc))


def _work(end: socket.socket, parents: list[socket.socket]) -> None:
    """A worker: the result of each chunk it is given, until its socket closes. It closes its
    copies of the parent's ends: the socket then closes when the parent ends, however it ends."""
    _worker_signals()
    for other in parents:
        other.close()
    while True:
        try:
            bounds = _BOUNDS.unpack(_exactly(end, _BOUNDS.size))
        except (EOFError, OSError):
            return
        try:
            data = pickle.dumps((True, _run_chunk(bounds)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - raised in the parent
            try:
                data = pickle.dumps((False, exc))
            except Exception:  # noqa: BLE001 - an error that cannot be pickled
                data = pickle.dumps((False, RuntimeError(f"a rendering worker failed: {exc!r}")))
        try:
            end.sendall(_SIZE.pack(len(data)))
            end.sendall(data)
        except OSError:  # the parent is gone
            return


_BOUNDS = struct.Struct("<qq")  # a chunk's (start, end), as a worker is given it
_SIZE = struct.Struct("<q")  # the length of the pickled result that follows it


def _exactly(end: socket.socket, size: int) -> bytearray:
    """The next `size` bytes from the socket, read without the interpreter's lock (MSG_WAITALL)."""
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        n = end.recv_into(view[got:], size - got, socket.MSG_WAITALL)
        if n == 0:
            raise EOFError
        got += n
    return data


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
