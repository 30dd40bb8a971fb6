"""Watching the site's sources for the preview, through watchdog (inotify on Linux).

Watched: ROOT/content, ROOT/layouts, ROOT/assets and the built-in layouts/ and assets/;
never the output folder. A source folder that appears later (a first layout override)
is picked up through a shallow watch on the root. Editors' swap and backup files are
ignored; an atomic save (write a temporary file, rename it over) counts as its target.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from watchdog.events import (DirCreatedEvent, DirDeletedEvent, DirMovedEvent, FileClosedEvent, FileCreatedEvent,
                             FileDeletedEvent, FileModifiedEvent, FileMovedEvent, FileSystemEvent,
                             FileSystemEventHandler)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from .render import BUILTIN

SOURCES = ("content", "layouts", "assets")
CHANGES = [FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent, FileClosedEvent,
           DirCreatedEvent, DirDeletedEvent, DirMovedEvent]  # not opens and reads: the build makes those


def source_folders(root: Path) -> list[Path]:
    """The folders a build reads, each once, the site's own first."""
    folders = [root / name for name in SOURCES] + [BUILTIN / name for name in SOURCES[1:]]
    unique: list[Path] = []
    for folder in (f.resolve() for f in folders):
        if folder not in unique:
            unique.append(folder)
    return unique


def ignored(name: str) -> bool:
    """Editors' temporary, swap and backup files, and dotfiles, which no build reads."""
    return name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx"))


class Watcher(FileSystemEventHandler):
    """Calls `changed(path)`, from the observer's thread, for each changed source file or folder."""

    def __init__(self, root: Path, out: Path, changed: Callable[[str], None]):
        self.root, self.out = root.resolve(), out.resolve()
        self.changed = changed
        self.folders = source_folders(root)
        self.filepath: str | None = None  # the last changed source (livereload's handler logs it)
        self.observer: BaseObserver = Observer()
        self.watches: dict[Path, ObservedWatch] = {}

    def start(self) -> None:
        for folder in self.folders:
            self._watch(folder)
        self.observer.schedule(self, str(self.root), recursive=False,
                               event_filter=[DirCreatedEvent, DirDeletedEvent, DirMovedEvent])
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)

    def _watch(self, folder: Path) -> None:
        old = self.watches.pop(folder, None)
        if old is not None:
            try:
                self.observer.unschedule(old)
            except KeyError:
                pass
        if folder.is_dir():
            self.watches[folder] = self.observer.schedule(self, str(folder), recursive=True, event_filter=CHANGES)

    def on_any_event(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self._seen(Path(os.fsdecode(raw)), event)

    def _seen(self, path: Path, event: FileSystemEvent) -> None:
        if path.parent == self.root and path.name not in SOURCES:
            return  # the root's other entries, the output folder and its temporary neighbours among them
        if path in self.folders and event.event_type in ("created", "moved"):
            self._watch(path)  # a source folder appeared (or came back)
        if path == self.out or path.is_relative_to(self.out):
            return
        folder = next((f for f in self.folders if path.is_relative_to(f)), None)
        if folder is None or any(ignored(part) for part in path.relative_to(folder).parts):
            return
        self.filepath = str(path)
        self.changed(str(path))
