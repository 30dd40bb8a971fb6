"""Run inside a private mount namespace by test_interrupt.py (`unshare -m python mountns.py SCENARIO DIR`).

full:     a small tmpfs at DIR holds a good build; the disk is then filled but for a few
          kilobytes and a build that changes every page runs out of space.
readonly: a good build at DIR/site, then DIR is remounted read-only and a build runs.
Prints what happened as JSON: exit status and stderr of the second build, digests before
and after, and what was left beside the site.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.hardening.sites import build, minimal_site, tree_digest, write_files  # noqa: E402


def main(scenario: str, disk: Path) -> None:
    disk.mkdir(parents=True, exist_ok=True)
    root = minimal_site(disk.parent / "root")
    out = disk / "site"
    if scenario == "full":
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True)
    else:
        subprocess.run(["mount", "--bind", str(disk), str(disk)], check=True)
    first = build(root, out)
    before = tree_digest(out)
    if scenario == "full":
        stats = os.statvfs(disk)
        free = stats.f_bavail * stats.f_frsize
        with open(disk / "filler", "wb") as handle:  # leave a few kilobytes, far less than a site
            handle.write(b"\0" * max(0, free - 24 * 1024))
    else:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(disk)], check=True)
    write_files(root, {"content/site.yml": "title: A new title on every page\nbase_url: https://example.org/\n"}, disk)
    second = build(root, out)
    print(json.dumps({
        "first": first.returncode, "returncode": second.returncode, "stderr": second.stderr,
        "before": before, "after": tree_digest(out),
        "leftovers": sorted(p.name for p in disk.iterdir() if p.name.startswith((".site.building-", ".site.old-"))),
    }))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
