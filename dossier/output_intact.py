"""Which files of the last site are still as they were written, told by a process on the other core.

Before it keeps a file, a build makes sure it is still as written (output.damaged): a stat
of every file of the site, at 5,000 explainers 25,000 of them and 80 ms of every build in
serve. A thread cannot take that off the build: it would wait for the interpreter after
every stat while the build holds it. So a process that builds again and again (serve) has
a helper process hold the records of the last site; the build asks it at its start, and
reads the answer, the files that are not as written, when it comes to keep them.

The helper is started by the second build of a process: a single `python build.py` never
starts one. It ignores Ctrl-C, and ends when this process does (its input closes).
"""

from __future__ import annotations

import functools
import os
import pickle
import select
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ENGINE_HOME = Path(__file__).resolve().parent.parent  # where the helper imports this module from
WAIT = 10.0  # seconds an answer may take before the helper is given up and the build stats the files itself


def damaged(folder: Path | str, records: dict[str, tuple]) -> set[str]:
    """The recorded files that are no longer in `folder` as they were written: gone, or another
    size, mtime or inode. `records`: rel -> (..., size, mtime_ns, inode), as output.Record."""
    found = set()
    base = str(folder) + os.sep
    for rel, record in records.items():
        try:
            st = os.stat(base + rel)
        except OSError:
            found.add(rel)
            continue
        if st.st_ino != record[-1] or st.st_size != record[-3] or st.st_mtime_ns != record[-2]:
            found.add(rel)
    return found


def _helper() -> None:
    """The helper process's loop: records in, checks answered, until its input closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in serve's terminal stops serve, which stops this
    given, told = sys.stdin.buffer, sys.stdout.buffer
    records: dict[str, tuple] = {}
    while True:
        try:
            message = pickle.load(given)
        except EOFError:
            return
        if message[0] == "all":
            records = message[1]
        elif message[0] == "changes":
            records.update(message[1])
            for rel in message[2]:
                records.pop(rel, None)
        else:
            _, serial, base = message
            answer = pickle.dumps((serial, sorted(damaged(base, records))))
            told.write(len(answer).to_bytes(8, "big") + answer)
            told.flush()


_START = "import sys; sys.path.insert(0, sys.argv[1]); from dossier.output_intact import _helper; _helper()"


class Helper:
    """The helper process, and which records it holds (the very dict it was last sent)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._holds: dict | None = None
        self._base: Path | None = None  # the folder whose files the records describe
        self._settled = 0
        self._serial = 0
        self._unread = False  # a check was asked whose answer was not read

    def ask(self, records: dict[str, Any]) -> Told | None:
        """Have the helper stat `records` now, if it holds these very records, in the folder it was told."""
        if self._process is None or self._holds is not records:
            return None
        self._serial += 1
        if not self._send(("check", self._serial, str(self._base))):
            return None
        self._unread = True
        return Told(self._base, functools.partial(self._answer, self._serial))

    def holds(self, base: Path, records: dict[str, Any], before: dict[str, Any] | None = None,
              changed: set[str] = frozenset(), gone: list[str] = ()) -> None:
        """After a commit: the helper holds `records`, of the files in `base`, from now on; where
        it held `before`, only the `changed` and `gone` rels are sent. Started at the second call
        in this process."""
        self._settled += 1
        if self._unread:  # its answer may fill the pipe, and the helper wait on it while this writes
            self._stop()
        if self._process is None and self._settled >= 2:
            self._start()
        if self._process is None:
            return
        if before is not None and self._holds is before:
            sent = self._send(("changes", {rel: _kept(records[rel]) for rel in changed}, list(gone)))
        else:
            sent = self._send(("all", {rel: _kept(record) for rel, record in records.items()}))
        self._holds, self._base = (records, base) if sent else (None, None)

    def _start(self) -> None:
        try:
            self._process = subprocess.Popen([sys.executable, "-I", "-S", "-c", _START, str(ENGINE_HOME)],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            self._process = None

    def _send(self, message: tuple) -> bool:
        try:
            pickle.dump(message, self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._process.stdin.flush()
            return True
        except (OSError, ValueError):
            self._stop()
            return False

    def _answer(self, serial: int) -> set[str] | None:
        """The helper's answer to the check numbered `serial` (earlier answers nobody read are skipped)."""
        try:
            while self._process is not None:
                answered, rels = pickle.loads(self._read(int.from_bytes(self._read(8), "big")))
                if answered == serial:
                    self._unread = False
                    return set(rels)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError):
            pass
        self._stop()
        return None

    def _read(self, size: int) -> bytes:
        """Exactly `size` bytes of the helper's output, each piece waited for at most WAIT seconds."""
        fd, data = self._process.stdout.fileno(), bytearray()
        while len(data) < size:
            if not select.select([fd], [], [], WAIT)[0]:
                raise OSError("the helper gave no answer")
            piece = os.read(fd, size - len(data))
            if not piece:
                raise EOFError
            data += piece
        return bytes(data)

    def _stop(self) -> None:
        process, self._process, self._holds, self._unread = self._process, None, None, False
        if process is not None:
            process.kill()
            process.wait()


@dataclass
class Told:
    """A check asked of the helper: the folder, and what waits for the answer (the rels no
    longer as written; None if the helper gave none)."""

    base: Path
    answer: Callable[[], set[str] | None]


def _kept(record: tuple) -> tuple:
    """What the helper compares of a record (output.Record): size, mtime, inode."""
    return record[1:]


HELPER = Helper()  # the builds' (one at a time, in one thread)
