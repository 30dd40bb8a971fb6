"""Smoke check of the speed benchmark (bench/run.py): a tiny corpus, our generator only.

The benchmark is not a test; this only proves it still runs end to end through its real
command line and prints a table with a row for each of our scenarios. No peer (Hugo,
Pelican, MkDocs) is needed here.
"""

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
    rows = table_rows(proc.stdout)
    ours = {r["scenario"]: r for r in rows if r["generator"] == "ours"}
    assert sorted(ours) == sorted(OUR_SCENARIOS), proc.stdout
    for scenario, row in ours.items():
        assert float(row["pages/s"]) > 0, row
        assert float(row["median wall s"]) > 0, row
        assert float(row["peak MB"]) > 0, row
        # the proportional measure never exceeds the resident sum it shares out (sampled a moment later)
        assert 0 < float(row["peak PSS MB"]) <= float(row["peak MB"]) * 1.1, row
    assert {"floor-1proc", "floor-2proc"} <= {r["generator"] for r in rows}
    assert re.search(r"^- CPU: ", proc.stdout, re.M), "machine description missing"
