"""Writing the site: into a temporary folder beside OUT, swapped in whole.

The only module that touches the output folder. A build that fails or is killed
leaves the previous site as it was; the next build clears what a killed one left.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from pathlib import Path

_RENAME_EXCHANGE = 2


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_site(out: Path, files: dict[str, bytes | Path]) -> None:
    """Write every file (bytes, or a Path to copy) into a fresh folder and swap it in for OUT."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    clear_leftovers(out)
    temp = temp_dir_for(out)
    temp.mkdir()
    try:
        made: set[Path] = {temp}
        for rel in sorted(files):
            target = temp / rel
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            data = files[rel]
            if isinstance(data, Path):
                shutil.copyfile(data, target)
            else:
                target.write_bytes(data)
        swap_in(temp, out)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


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
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
