"""A process and its descendants, read from /proc: their memory and CPU time (Linux)."""

from __future__ import annotations

import os
import threading


def tree_pids(root: int) -> list[int]:
    """The process and all its descendants (via /proc/PID/task/TID/children)."""
    pids, i = [root], 0
    while i < len(pids):
        pid = pids[i]
        i += 1
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    pids.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return pids


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def tree_rss_kb(root: int) -> int:
    """Resident memory of the whole tree, summed (cheap: /proc/PID/statm)."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_KB
        except (OSError, ValueError, IndexError):
            pass
    return total


def tree_pss_kb(root: int) -> int:
    """Proportional memory of the whole tree: a page shared by n processes counts 1/n in each
    (/proc/PID/smaps_rollup). Forked workers share most of their parent's pages, which the RSS
    sum counts once per process; this does not. Slower to read, so sampled less often."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError, IndexError):
            pass
    return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """User and system seconds of the tree's live processes, and of the children the root reaped."""
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if pid == root else 0)
    return total / CLOCK_TICKS


class Peaks:
    """The peak memory of a process tree while it runs, sampled on a thread of its own: the
    resident sum every `interval` seconds, the proportional size (slower to read) every fourth."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval = pid, interval
        self.rss_kb = self.pss_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        ticks = 0
        while not self._done.wait(self.interval):
            self.rss_kb = max(self.rss_kb, tree_rss_kb(self.pid))
            if ticks % 4 == 0:
                self.pss_kb = max(self.pss_kb, tree_pss_kb(self.pid))
            ticks += 1

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
