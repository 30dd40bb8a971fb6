"""The pool that splits a big build's work: this process and forked workers, results in order."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from dossier import render_pool

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")


@pytest.fixture
def two_cores(monkeypatch):
    """Split even a small job, between this process and one worker, as a big site's build on two cores does."""
    monkeypatch.setattr(render_pool, "MIN_COST", 0)
    monkeypatch.setattr(render_pool, "workers", lambda: 2)


def test_results_come_in_task_order_from_this_process_and_a_worker(two_cores):
    parent = os.getpid()

    def job(chunk):  # each result bigger than a socket holds: a worker's reply must be read as it comes
        time.sleep(0.005)  # long enough for either process to take a chunk while the other works
        return [(n, os.getpid(), bytes(100_000)) for n in chunk]

    results = render_pool.run(job, list(range(300)))
    assert [n for n, _, _ in results] == list(range(300))
    by = {pid for _, pid, _ in results}
    assert parent in by and len(by) == 2  # this process worked too, beside one worker
    assert multiprocessing.active_children() == []


def test_an_error_in_a_worker_is_raised_here_and_the_workers_end(two_cores):
    parent = os.getpid()

    def job(chunk):
        if os.getpid() != parent:
            raise ValueError(f"bad task {chunk[0]}")
        return chunk

    with pytest.raises(ValueError, match="bad task"):
        render_pool.run(job, list(range(300)))
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_fails_the_job_rather_than_hang_it(two_cores):
    parent = os.getpid()

    def job(chunk):
        if os.getpid() != parent:
            os._exit(3)  # as if the kernel's OOM killer had ended it
        return chunk

    with pytest.raises(ChildProcessError, match="ended unexpectedly"):
        render_pool.run(job, list(range(300)))
    assert multiprocessing.active_children() == []


def test_a_result_this_process_cannot_take_in_fails_the_job_rather_than_hang_it(two_cores, monkeypatch):
    """Reading a worker's result can fail here too (no memory for a 40 MB result at 20,000
    explainers): the job gets that error. Run in a thread, so that a hang fails the test."""
    import threading

    read = render_pool._exactly

    def short_of_memory(end, size):
        if size > 1_000 and os.getpid() == parent:  # a result, read by this process's thread
            raise MemoryError("no room for a result")
        return read(end, size)

    parent = os.getpid()
    monkeypatch.setattr(render_pool, "_exactly", short_of_memory)
    raised = []

    def run():
        try:
            render_pool.run(lambda chunk: [bytes(10_000) for _ in chunk], list(range(300)))
        except BaseException as exc:  # noqa: BLE001 - what the caller would get
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the job hung"
    assert len(raised) == 1 and isinstance(raised[0], MemoryError)
    assert multiprocessing.active_children() == []


def test_a_stream_left_early_ends_its_workers(two_cores):
    stream = render_pool.stream(lambda chunk: list(chunk), list(range(300)))
    assert next(stream) == 0
    assert multiprocessing.active_children()  # the worker is at work
    stream.close()
    assert multiprocessing.active_children() == []
