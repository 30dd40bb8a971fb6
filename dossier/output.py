"""Writing the site: the next site is assembled apart from OUT and swapped in whole.

The only module that touches the output folder. A build that fails or is killed
leaves the previous site as it was; the next build clears what a killed one left.

Two ways to assemble the next site, chosen by `Writer`:
- fresh: a temporary folder beside OUT receives every file, new ones written and
  unchanged ones hard-linked from OUT (copied where links are not possible);
- mirror: when the build cache keeps a hard-linked twin of OUT on the same disk,
  only the files that changed are put into the twin, the twin is swapped with OUT,
  and the old OUT is brought level with the new one. The cost follows the change.

Every file written is recorded as (digest, size, mtime_ns, inode); a file is reused
only while it still matches its record.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Callable

from .output_intact import HELPER, Told, damaged

_RENAME_EXCHANGE = 2

Record = tuple  # (digest, size, mtime_ns, inode)


def unsafe_reason(root: Path, out: Path) -> str | None:
    """Why OUT must not be written, or None: it must not be or hold the root or content/."""
    root, out = root.resolve(), out.resolve()
    content = root / "content"
    for precious, name in ((root, "the site root"), (content, "the content folder")):
        if out == precious or precious.is_relative_to(out):
            return f"--out {out} is or contains {name}; choose a folder of its own, like {root / 'site'}"
    if out.is_relative_to(content):
        return f"--out {out} is inside the content folder"
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file, not a folder"
    return None


def checksum(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def temp_dir_for(out: Path) -> Path:
    return out.parent / f".{out.name}.building-{os.getpid()}"


def clear_leftovers(out: Path) -> None:
    """Remove the temporary folders of builds that were killed."""
    if not out.parent.is_dir():
        return
    for entry in out.parent.iterdir():
        if entry.name.startswith(f".{out.name}.building-") or entry.name.startswith(f".{out.name}.old-"):
            pid = entry.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
                continue
            shutil.rmtree(entry, ignore_errors=True)


_removing: list = []  # the futures of remove_later's folders
_removing_lock = threading.Lock()  # Pagefinds' threads hand folders over at once


@functools.cache
def _remover() -> Any:
    """The thread that removes folders, one at a time, in order (made when first needed: a build
    that finds nothing changed does not import concurrent.futures, 20 ms)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="removing")


def remove_later(folder: Path) -> None:
    """Remove a folder in a thread while the build goes on: deleting the links of a 1,000-page
    search shard took 0.2-0.3 s after an edit's only Pagefind, and now overlaps the commit.
    The build waits for them all (`removed`) before it returns."""
    with _removing_lock:
        _removing.append(_remover().submit(shutil.rmtree, folder, ignore_errors=True))


def removed() -> None:
    """Wait until every folder given to remove_later() is gone."""
    while _removing:
        _removing.pop(0).result()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def folder_times(folder: Path, rels) -> dict[str, tuple[int, int]]:
    """(mtime, ctime) of the folders holding these files, and of their folders: a file added,
    removed or renamed by hand anywhere in the site changes one of them."""
    names = {""}
    for rel in rels:
        while "/" in rel:
            rel = rel.rsplit("/", 1)[0]
            if rel in names:
                break
            names.add(rel)
    base = str(folder) + os.sep
    times = {}
    for name in names:
        try:
            st = os.stat(base + name)
        except OSError:
            continue
        times[name] = (st.st_mtime_ns, st.st_ctime_ns)
    return times


def all_intact(folder: Path, records: dict[str, Record], folders: dict[str, tuple[int, int]]) -> bool:
    """Whether every recorded file is still in `folder` as it was written, and nothing was added."""
    base = str(folder) + os.sep
    try:
        for name, times in folders.items():
            st = os.stat(base + name)
            if (st.st_mtime_ns, st.st_ctime_ns) != times:
                return False
        for rel, (_, size, mtime_ns, ino) in records.items():
            st = os.stat(base + rel)
            if st.st_ino != ino or st.st_size != size or st.st_mtime_ns != mtime_ns:
                return False
    except OSError:
        return False
    return bool(folders)


def mirror_token(mirror: Path) -> str:
    """The token of a mirror that was left level with OUT, or '' (missing or mid-update)."""
    try:
        return (mirror.parent / f"{mirror.name}.ok").read_text()
    except OSError:
        return ""


class Writer:
    """Assembles the next site from new files and unchanged old ones, then swaps it in.

    `records` describe the previous site's files; `mirror` is where the hard-linked twin
    of OUT is kept (None for none) and `token` the mirror token the previous build recorded.
    """

    def __init__(self, out: Path, records: dict[str, Record], mirror: Path | None = None, token: str = "",
                 folders: dict[str, tuple[int, int]] | None = None, told: Told | None = None):
        self.out = out.resolve()
        self.folders = folders or {}  # folder_times(OUT) as the previous build left it
        self.out.parent.mkdir(parents=True, exist_ok=True)
        clear_leftovers(self.out)
        self.records = records
        self.mirror = mirror if mirror is not None and _same_disk(mirror.parent, self.out.parent) else None
        level = bool(self.mirror and token and records and mirror_token(self.mirror) == token)
        self.incremental = level and self.out.is_dir()
        base = self.mirror if level else self.out  # where the files to reuse are
        self.base = base
        # the recorded files no longer as written (HELPER, asked at the build's start, tells if it can)
        found = told.answer() if told is not None and told.base == base and records else None
        self.damaged = found if found is not None else damaged(base, records) if base.is_dir() else set(records)
        self.new: dict[str, Record] = {}  # rel -> record, for every file of the next site
        self.staged: dict[str, Path] = {}  # rel -> where its new bytes wait
        self.written: set[str] = set()
        if self.mirror is not None:
            _clear_incoming(self.mirror.parent)
        self.stage = self.mirror.parent / f"incoming-{os.getpid()}" if self.incremental else temp_dir_for(self.out)
        shutil.rmtree(self.stage, ignore_errors=True)
        self.stage.mkdir(parents=True)
        self._folders: set[Path] = {self.stage}
        self.token = os.urandom(16).hex()
        self._settle: Callable[[], None] | None = None  # what settle() does after the commit
        self._ahead: _Ahead | None = None  # the mirror, begun before the commit (mirror_ahead)

    def can_keep(self, rel: str, digest: bytes | None = None) -> bool:
        """Whether the previous file at rel is intact (and, given a digest, has these bytes)."""
        return rel in self.records and rel not in self.damaged and (digest is None or self.records[rel][0] == digest)

    def keep(self, rel: str) -> None:
        """The next site has the previous file at rel, unchanged."""
        self.new[rel] = self.records[rel]
        if not self.incremental:
            target = self._target(rel)
            if not link_or_copy(self.base / rel, target):
                self.new[rel] = _record(self.records[rel][0], target)

    def put(self, rel: str, data: bytes | Path, digest: bytes | None = None, same: Path | None = None) -> None:
        """The next site has these bytes (or a copy of this file) at rel; kept if they did not change.

        `same`, a file of these very bytes that no one writes to any more (Pagefind's, in a scratch
        folder), is linked there instead: a new file is a new inode, which on the development
        machine's disk cost 63-216 µs (README, Speed), and the scratch file's deletion frees none."""
        if isinstance(data, bytes):
            digest = checksum(data)
        if digest is not None and self.can_keep(rel, digest):
            return self.keep(rel)
        target = self._target(rel)
        if isinstance(data, Path):
            shutil.copyfile(data, target)
            digest = digest or checksum(target.read_bytes())
        elif same is not None:
            link_or_copy(same, target)
        else:
            with open(target, "wb") as handle:
                handle.write(data)
        self.new[rel] = _record(digest, target)
        self.staged[rel] = target
        self.written.add(rel)

    def previous(self, rel: str) -> bytes | None:
        """The bytes OUT has at rel, if they are still those the previous build recorded."""
        if rel not in self.records:
            return None
        try:
            data = (self.out / rel).read_bytes()
        except OSError:
            return None
        return data if checksum(data) == self.records[rel][0] else None

    def next(self, rel: str) -> bytes:
        """The bytes the next site has at rel, put or kept."""
        waiting = self.staged.get(rel)
        return (waiting or (self.mirror if self.incremental else self.stage) / rel).read_bytes()

    def mirror_ahead(self) -> None:
        """Begin the mirror of a fresh site now, from the files put so far, in a thread.

        The build calls this before it waits on Pagefind, whose time it fills: the commit stops
        it where it got to, and settle() only adds the rest. Only for a site assembled afresh
        whose old files are not read from the mirror: an incremental build's mirror is the site.
        """
        if self.mirror is not None and not self.incremental and self.base != self.mirror and self._ahead is None:
            self._ahead = _Ahead(self.stage, self.mirror, sorted(self.new))

    def assembled(self) -> Path:
        """A folder holding the next site's pages as they stand, for a tool that reads them all.

        What is put afterwards is added as usual. Pages (.html) the next site will not have
        are gone from it; other old files stay until the commit, because a file put later with
        the same bytes is kept where it is.
        """
        if not self.incremental:
            return self.stage
        self._into_mirror([rel for rel in self._gone() if rel.endswith(".html")])
        return self.mirror

    def _gone(self) -> list[str]:
        return sorted(set(self.records) - set(self.new))

    def _into_mirror(self, gone: list[str]) -> None:
        """Move the waiting files into the mirror and remove `gone` from it (no longer a twin of OUT).

        With nothing to move or remove it stays a twin: a search catch-up that changed no page
        and is then stopped (serve, for a save) leaves the next build its mirror."""
        if not self.staged and not gone:
            return
        _forget_token(self.mirror)
        for rel, waiting in sorted(self.staged.items()):
            _move(waiting, self.mirror / rel)
        self.staged = {}
        _remove(self.mirror, gone)

    def _target(self, rel: str) -> Path:
        if self.incremental:  # waiting files have plain numbered names until the commit
            return self.stage / str(len(self.staged))
        target = self.stage / rel
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        return target

    def commit(self) -> dict[str, Record]:
        """Swap the next site in for OUT; returns its files' records.

        The mirror is brought level with the new OUT, and the new OUT's folder times taken, by
        settle(), which the build calls once the site is published: the editor's browser need
        not wait for either (at 5,000 explainers each is a stat of 12,500 folders, 45 ms)."""
        if self._ahead is not None:
            self._ahead.stop()  # it reads the stage, which is OUT from now on
        try:
            if self.incremental:
                self._swap_mirror()
            else:
                swap_in(self.stage, self.out)  # the stage holds the previous site now, if any
                self._settle = self._make_mirror if self.mirror is not None else None
        except BaseException:
            shutil.rmtree(self.stage, ignore_errors=True)
            raise
        return self.new

    def settle(self) -> None:
        """After commit(): bring the mirror level with OUT for the next build, clear the stage,
        and take OUT's folder times (self.folders), which tell the next build whether files
        were added to it by hand. The helper (output_intact) holds the new site's records from now on."""
        try:
            if self._settle is not None:
                self._settle()
        finally:
            self._settle = None
            shutil.rmtree(self.stage, ignore_errors=True)
        self.folders = folder_times(self.out, self.new)
        # the next build keeps files from the mirror if it was left level with OUT, else from OUT
        level = self.mirror is not None and mirror_token(self.mirror) == self.token
        HELPER.holds(self.mirror if level else self.out, self.new, self.records if self.incremental else None,
                     self.written, self._gone())

    @property
    def changed(self) -> set[str]:
        """The files of the next site that are new or different, and those it no longer has."""
        return set(self.written) | set(self._gone())

    def abort(self) -> None:
        if self._ahead is not None:
            self._ahead.stop()  # the mirror it began has no token: the next build makes another
        shutil.rmtree(self.stage, ignore_errors=True)

    def _swap_mirror(self) -> None:
        """Change the mirror into the next site and swap it with OUT; settle() levels the old OUT.

        Whether files were added to the old OUT by hand is told by its folders' times: those of
        its top folder now, as the swap changes them, and the others' in settle()."""
        gone = self._gone()
        self._into_mirror(gone)
        top = folder_times(self.out, ()) == {"": self.folders.get("")}
        swap_in(self.mirror, self.out)
        self._settle = lambda: self._settle_mirror(gone, top)

    def _settle_mirror(self, gone: list[str], top_untouched: bool) -> None:
        """The old OUT, now the mirror, is a twin of the new one but for what this build changed,
        unless files were added to it by hand: then it is made a twin afresh."""
        below = {name: times for name, times in self.folders.items() if name}
        if top_untouched and below == {name: times for name, times in folder_times(self.mirror, self.records).items()
                                       if name}:
            self._level_mirror(gone)
        else:
            self._make_mirror()

    def _level_mirror(self, gone: list[str]) -> None:
        mirror, out = self.mirror, self.out
        for rel in sorted(self.written):
            temp = mirror / f".{self.token}"
            if not link_or_copy(out / rel, temp):
                return  # no token: the next build makes a new mirror
            _move(temp, mirror / rel)
        _remove(mirror, gone)
        _set_token(mirror, self.token)

    def _make_mirror(self) -> None:
        mirror, ahead = self.mirror, self._ahead
        if ahead is None:
            _begin_mirror(mirror)
            linked: set[str] = set()
        elif ahead.linked is None:
            return  # a file could only be copied: no mirror
        else:
            linked = set(ahead.rels[:ahead.linked])
        rest = [rel for rel in sorted(self.new) if rel not in linked]
        if link_all(self.out, mirror, rest, ahead.folders if ahead else {mirror}) == len(rest):
            _set_token(mirror, self.token)


class _Ahead:
    """A new mirror, linked from a stage in a thread until stopped (Writer.mirror_ahead)."""

    def __init__(self, stage: Path, mirror: Path, rels: list[str]):
        self.rels = rels
        self.folders = {mirror}
        self.linked: int | None = 0  # how many of rels are in the mirror; None: it cannot be made
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(stage, mirror), name="mirror", daemon=True)
        self._thread.start()

    def _run(self, stage: Path, mirror: Path) -> None:
        try:
            _begin_mirror(mirror)
            self.linked = link_all(stage, mirror, self.rels, self.folders, self._stop)
        except OSError:
            self.linked = None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _begin_mirror(mirror: Path) -> None:
    """An empty mirror folder, without a token until it is whole."""
    _forget_token(mirror)
    shutil.rmtree(mirror, ignore_errors=True)
    mirror.mkdir(parents=True)


def link_all(source: Path, target: Path, rels: list[str], folders: set[Path],
             stop: threading.Event | None = None, copies: bool = False) -> int | None:
    """Hard-link rels from source into target, in order, creating folders (noted in `folders`).

    Returns how many were linked before `stop` was set; None if one could only be copied,
    unless `copies` are as good (then copying goes on).
    """
    for n, rel in enumerate(rels):
        if stop is not None and stop.is_set():
            return n
        path = target / rel
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        if not link_or_copy(source / rel, path) and not copies:
            return None
    return len(rels)


def relink(source: Path, target: Path, rels: list[str]) -> None:
    """Make `target`, a folder kept from use to use, hold exactly these files of source,
    hard-linked: only a file whose link there is not to source's (another inode: it changed)
    is linked again, and only the files `rels` no longer names are removed, with the folders
    they leave empty. OSError if a link cannot be made (another disk)."""
    target.mkdir(parents=True, exist_ok=True)
    if os.stat(target).st_dev != os.stat(source).st_dev:
        raise OSError(errno.EXDEV, "not on the same disk", str(target))
    wanted = set(rels)
    for where, _, files in os.walk(target, topdown=False):
        for name in files:
            path = Path(where, name)
            if path.relative_to(target).as_posix() not in wanted:
                os.unlink(path)
        if where != str(target) and not os.listdir(where):
            os.rmdir(where)
    for rel in rels:
        path = target / rel
        with contextlib.suppress(FileNotFoundError):
            if os.path.samefile(source / rel, path):
                continue
            os.unlink(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(source / rel, path)


def _record(digest: bytes, path: Path) -> Record:
    st = os.stat(path)
    return (digest, st.st_size, st.st_mtime_ns, st.st_ino)


def link_or_copy(source: Path, target: Path) -> bool:
    """Hard-link source at target; where that is not possible copy it and return False."""
    try:
        os.link(source, target)
        return True
    except OSError:
        shutil.copy2(source, target)
        return False


def _clear_incoming(folder: Path) -> None:
    """Remove the files killed builds left waiting beside the mirror."""
    for entry in folder.glob("incoming-*"):
        pid = entry.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid))):
            shutil.rmtree(entry, ignore_errors=True)


def _same_disk(a: Path, b: Path) -> bool:
    try:
        a.mkdir(parents=True, exist_ok=True)
        return os.stat(a).st_dev == os.stat(b if b.exists() else b.parent).st_dev
    except OSError:
        return False


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _remove(folder: Path, rels: list[str]) -> None:
    """Delete files, then the folders they leave empty."""
    for rel in rels:
        try:
            os.unlink(folder / rel)
        except FileNotFoundError:
            pass
        parent = (folder / rel).parent
        while parent != folder:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def _forget_token(mirror: Path) -> None:
    try:
        os.unlink(mirror.parent / f"{mirror.name}.ok")
    except FileNotFoundError:
        pass


def _set_token(mirror: Path, token: str) -> None:
    (mirror.parent / f"{mirror.name}.ok").write_text(token)


def write_site(out: Path, files: dict[str, bytes | Path]) -> None:
    """Write every file (bytes, or a Path to copy) into a fresh folder and swap it in for OUT."""
    writer = Writer(out, {})
    try:
        for rel in sorted(files):
            writer.put(rel, files[rel])
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    writer.settle()


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2, looked up once a process (find_library takes about 4 ms); ctypes is
    imported only here, so a build that swaps nothing does not import it."""
    import ctypes
    import ctypes.util

    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return None
    return getattr(ctypes.CDLL(libc_name, use_errno=True), "renameat2", None)


def swap_in(new: Path, out: Path) -> None:
    """Make `new` the folder at `out`; afterwards the previous site, if any, is at `new`."""
    if not out.exists():
        os.rename(new, out)
        return
    if _exchange(new, out):
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    os.rename(out, old)
    os.rename(new, out)
    os.rename(old, new)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False where unsupported."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
