"""Smoke check of the speed benchmark (bench/run.py): a tiny corpus, our generator only.

The benchmark is not a test; this only proves it still runs end to end through its real
command line and prints a table with a row for each of our scenarios. No peer (Hugo,
Pelican, MkDocs) is needed here.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUN = REPO / "bench" / "run.py"
OUR_SCENARIOS = ["cold", "no-change", "edit-card", "edit-explainer", "edit-alias", "publish-explainer"]


def table_rows(stdout: str) -> list[dict[str, str]]:
    """The Markdown results table as dicts keyed by its header cells."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in ln.strip("|").split("|")))) for ln in lines[2:]]


@pytest.mark.skipif(not (REPO / "build.py").exists(), reason="no build.py yet")
def test_benchmark_runs_at_tiny_size(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(RUN), "--explainers", "6", "--repeat", "1", "--peers", "none",
         "--no-warmup", "--python", sys.executable, "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=180, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results, steps = proc.stdout.split("### Our build's steps")  # our steps' table comes last
    rows = table_rows(results)
    ours = {r["scenario"]: r for r in rows if r["generator"] == "ours"}
    assert sorted(ours) == sorted(OUR_SCENARIOS), proc.stdout
    for scenario, row in ours.items():
        assert float(row["pages/s"]) > 0, row
        assert float(row["median wall s"]) > 0, row
        assert float(row["peak MB"]) > 0, row
        # the proportional measure never exceeds the resident sum it shares out (sampled a moment later)
        assert 0 < float(row["peak PSS MB"]) <= float(row["peak MB"]) * 1.1, row
    assert {"floor-1proc", "floor-2proc"} <= {r["generator"] for r in rows}
    # the same edits saved in a running `build.py serve`: save to site in place, and to first look
    served = {r["scenario"]: r for r in rows if r["generator"] == "serve"}
    assert sorted(served) == sorted(OUR_SCENARIOS[2:]), proc.stdout
    assert all(r["runs"] == "2" and 0 < float(r["median wall s"]) < 30 for r in served.values()), served
    looks = re.search(r"^- serve, from a save to the first look at the saved page \(median\): (.+)$", proc.stdout, re.M)
    assert looks and "edit-card " in looks[1], proc.stdout
    logs = sorted((tmp_path / "e6-s1" / "logs").glob("serve-edit-card-*.log"))
    assert len(logs) == 2 and all(re.search(r"^built .*\(\d+ rendered", log.read_text(), re.M) for log in logs)
    assert re.search(r"^- CPU: ", proc.stdout, re.M), "machine description missing"
    # where our time went: each scenario's steps as build.py --timings printed them
    by_scenario = {r["scenario"]: r for r in table_rows(steps)}
    assert sorted(by_scenario) == sorted(OUR_SCENARIOS), steps
    assert all(float(by_scenario["cold"][step]) >= 0 for step in ("read", "bodies", "pages", "search")), steps
    assert by_scenario["no-change"]["unchanged"] and not by_scenario["no-change"]["search"], steps
    assert re.search(r"^- ours no-change, last summary line: `built ", proc.stdout, re.M), proc.stdout


SEARCH_LATENCY = REPO / "bench" / "search_latency.py"


def test_search_latency_times_a_first_search_on_a_built_corpus(tmp_path, chromium_path):
    """bench/search_latency.py in Debian's chromium on a tiny corpus built in two shards: it
    reports the shards, the index requests and what the search page found."""
    corpus = subprocess.run([sys.executable, str(REPO / "bench" / "corpus.py"), "--explainers", "6", "--out",
                             str(tmp_path / "c"), "--sites", "ours"], capture_output=True, text=True, timeout=120)
    assert corpus.returncode == 0, corpus.stderr
    site = tmp_path / "site"
    built = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(tmp_path / "c" / "ours"),
                            "--out", str(site)], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "DOSSIER_SEARCH_SHARD_PAGES": "10"})
    assert built.returncode == 0, built.stderr
    proc = subprocess.run([sys.executable, str(SEARCH_LATENCY), str(site), "--terms", "grain", "--runs", "1"],
                          capture_output=True, text=True, timeout=180, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = re.fullmatch(r"(.+) \((\d+) shards\) 'grain': median ([\d.]+) s \(([\d.]+)\); (\d+) requests, (\d+) kB "
                        r"of index; (.+)", proc.stdout.strip())
    assert line, proc.stdout
    assert line[1] == str(site) and int(line[2]) == 2 and float(line[3]) > 0 and int(line[5]) > 2
    assert re.fullmatch(r"\d+\+? results? for “grain”.*", line[7]), line[7]
