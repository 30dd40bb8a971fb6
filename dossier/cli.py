"""The command line: `python build.py [build|check|serve|new] [options]`.

Exit status: 0 success, 1 content errors, 2 usage errors.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import urllib.parse
from pathlib import Path
from typing import TextIO

from . import output
from .pipeline import Options, Result, build
from .problems import ContentError, Problem

COMMANDS = ("build", "check", "serve", "new")


class UsageError(Exception):
    pass


class Reporter:
    """Where the command's words go; tests pass their own streams."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr):
        self.out, self.err = out, err
        self.steps = False  # --timings: each build's summary is followed by its steps

    def problems(self, problems: list[Problem]) -> None:
        for problem in problems:
            print(problem, file=self.err)
        errors = sum(p.severity == "error" for p in problems)
        if errors:
            print(f"{errors} error{'s' if errors != 1 else ''}", file=self.err)

    def built(self, result: Result, out: Path | None) -> None:
        self.problems(result.warnings)
        where = f" -> {out}" if out else ""
        verb = "checked" if out is None else "built"
        print(f"{verb} {result.pages} pages ({result.rendered} rendered, {result.unchanged} unchanged), "
              f"{result.files} files in {result.seconds:.2f} s{where}", file=self.out)
        if self.steps:
            self.timings(result)

    def timings(self, result: Result) -> None:
        """How long each step of the build took (--timings)."""
        print("steps: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in result.steps), file=self.out)

    def usage(self, message: str) -> None:
        print(f"error: {message}", file=self.err)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python build.py", description="Build a site of news explainers.")
    sub = p.add_subparsers(dest="command")
    for name, text in (("build", "build ROOT/content into the output folder"),
                       ("check", "validate everything, write nothing"),
                       ("serve", "build, serve, watch, rebuild and reload the browser")):
        command = sub.add_parser(name, help=text)
        _site_options(command)
        if name == "serve":
            command.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
            command.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        command.add_argument("--timings", action="store_true", help="also print how long each step of a build took")
    new = sub.add_parser("new", help="scaffold an explainer, actor or card")
    new.add_argument("kind", choices=("explainer", "actor", "card"))
    new.add_argument("slug")
    new.add_argument("--root", default=".", type=Path, help="site root (default .)")
    return p


def _site_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", default=".", type=Path, help="site root holding content/ (default .)")
    p.add_argument("--out", type=Path, help="output folder (default ROOT/site)")
    p.add_argument("--base-url", help="absolute http(s) URL the site is published at; overrides site.yml")
    p.add_argument("--drafts", action="store_true", help="include explainers marked draft: true")


def options_from(args: argparse.Namespace, write: bool) -> Options:
    root = args.root.resolve()
    if not root.is_dir():
        raise UsageError(f"--root {args.root} is not a folder")
    out = (args.out or root / "site").resolve()
    reason = output.unsafe_reason(root, out)
    if reason:
        raise UsageError(reason)
    if args.base_url is not None:
        parts = urllib.parse.urlsplit(args.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--base-url {args.base_url} is not an absolute http(s) URL")
    return Options(root=root, out=out, drafts=args.drafts, base_url=args.base_url, write=write)


def run() -> None:
    """`python build.py`: main(), as the process's whole life.

    A build or check is the last thing its process does, so the collector stays off (its pass
    over the site's model when the build ended cost 3 s at 5,000 explainers) and the process
    ends without tearing the model down object by object (5 s more after the summary line).
    Everything is written, flushed and closed by then; serve and new end the usual way.
    """
    argv = sys.argv[1:]
    one_shot = _command(argv) in ("build", "check")
    if one_shot:
        gc.disable()  # pipeline.collector_paused() then leaves it off
    code = main(argv)
    if one_shot:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _command(argv: list[str]) -> str | None:
    """The command argv names; build if it names none (None: asking for help)."""
    if argv and argv[0] in ("-h", "--help"):
        return None
    return argv[0] if argv and argv[0] in COMMANDS else "build"


def main(argv: list[str] | None = None, reporter: Reporter | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    reporter = reporter or Reporter()
    if _command(argv) == "build" and (not argv or argv[0] != "build"):
        argv.insert(0, "build")
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.command == "new":
            from .scaffold import scaffold
            try:
                path = scaffold(args.root.resolve(), args.kind, args.slug)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            print(f"wrote {path}", file=reporter.out)
            return 0
        options = options_from(args, write=args.command != "check")
        reporter.steps = args.timings
        if args.command == "serve":
            from .serve import serve
            return serve(options, args.host, args.port, reporter)
        result = build(options)
        reporter.built(result, options.out if options.write else None)
        return 0
    except UsageError as exc:
        reporter.usage(str(exc))
        return 2
    except ContentError as exc:
        reporter.problems(exc.problems)
        return 1
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        reporter.usage(f"cannot write the site: {exc.strerror or exc}{where}; the previous site is unchanged")
        return 2
    except KeyboardInterrupt:
        return 130
