"""Our edits as an editor makes them: saved while `python build.py serve` runs (run.py's `serve` rows).

One serve process on the benchmark's corpus, started once our command-line builds are done
(so it starts from their build cache) and left to warm up. Then each edit is saved as editors
save (a temporary file renamed over the source) and timed from just before the rename to the
moment serve says the whole site is in place (its `built ...` line), and to its first look at
the saved page, when it shows one. Before the next save, serve is left to settle: its search
index caught up, its build cache written, its processes idle.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from proctree import Peaks, tree_cpu_s

QUIET = 2.5  # seconds without CPU time spent that count as settled: more than serve's pause before search
IDLE_CPU = 0.05  # CPU seconds over QUIET that still count as idle (the watcher, the server's loop)


@dataclass
class Saved:
    wall: float  # seconds from the save to the whole site in place
    look: float | None  # seconds from the save to the first look at the saved page, if there was one
    cpu: float  # CPU seconds the serve process tree spent meanwhile
    peak_kb: int  # resident memory of the tree, summed, at its peak meanwhile
    pss_kb: int  # proportional memory of the tree at its peak meanwhile
    ok: bool  # the build succeeded (no content errors)
    log: Path  # serve's output from the save until it settled


class ServeFailed(RuntimeError):
    pass


class Serving:
    """`python build.py serve` on a root, its output lines kept with the time each arrived."""

    def __init__(self, cmd: list[str], timeout: float):
        self.timeout = timeout
        self.lines: list[tuple[float, str]] = []
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        threading.Thread(target=self._collect, daemon=True).start()
        try:
            self.wait_for(r"serving http", 0.0)
            self.settle()  # a new process plans the whole site once, at its first pause (warming up)
        except BaseException:  # not started after all: no serve left running behind the benchmark
            self.stop()
            raise

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append((time.perf_counter(), line))

    def wait_for(self, pattern: str, since: float, fail: str | None = None) -> tuple[float, bool]:
        """When the first line matching pattern (or fail) arrived after `since`; and whether it was pattern."""
        wanted, failing = re.compile(pattern), re.compile(fail) if fail else None
        deadline, seen = time.perf_counter() + self.timeout, 0
        while time.perf_counter() < deadline:
            lines = self.lines[seen:]
            for at, line in lines:
                if at >= since and wanted.match(line):
                    return at, True
                if at >= since and failing and failing.match(line):
                    return at, False
            seen += len(lines)
            if self.process.poll() is not None and seen == len(self.lines):
                raise ServeFailed(f"serve exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.005)
        raise ServeFailed(f"no {pattern!r} from serve within {self.timeout:.0f} s:\n{self.output()}")

    def settle(self) -> None:
        """Wait until the tree spends no CPU time for QUIET seconds."""
        deadline = time.perf_counter() + self.timeout
        before, since = tree_cpu_s(self.process.pid), time.perf_counter()
        while time.perf_counter() < deadline:
            time.sleep(0.25)
            now = tree_cpu_s(self.process.pid)
            if now - before > IDLE_CPU:
                before, since = now, time.perf_counter()
            elif time.perf_counter() - since >= QUIET:
                return
        raise ServeFailed(f"serve still busy after {self.timeout:.0f} s:\n{self.output()}")

    def save(self, path: Path, data: bytes | None, log: Path) -> Saved:
        """Save data over path (None: delete it), and time what serve makes of it."""
        first, peaks = len(self.lines), Peaks(self.process.pid)
        try:
            cpu = tree_cpu_s(self.process.pid)
            start = time.perf_counter()
            if data is None:
                path.unlink()
            else:
                temp = path.with_name(f".{path.name}.saving")
                temp.write_bytes(data)
                os.replace(temp, path)
            at, ok = self.wait_for(r"built ", start, fail=r"\d+ errors?$")
            cpu = tree_cpu_s(self.process.pid) - cpu
        finally:
            peaks.stop()
        looks = [t for t, line in self.lines[first:] if start <= t <= at and line.startswith("first look at")]
        self.settle()
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(line for _, line in self.lines[first:]), encoding="utf-8")
        return Saved(wall=at - start, look=looks[0] - start if looks else None, cpu=cpu,
                     peak_kb=peaks.rss_kb, pss_kb=peaks.pss_kb, ok=ok, log=log)

    def output(self) -> str:
        return "".join(line for _, line in self.lines[-40:])

    def stop(self) -> None:
        """Ctrl-C, as an editor stops it; killed if it does not end."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
