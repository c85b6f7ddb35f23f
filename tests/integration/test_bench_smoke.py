"""The benchmark harness (bench/run.py) in its tiny smoke mode, against objectstore only, so
that it cannot rot. No timing assertions: only that it runs and writes its tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--smoke", "--only", "objectstore",
         "--out", str(out), "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    for row in ("| Start-up to first answered request, ms |",
                "| 4 KiB PUT, 32 conn., ops/s |",
                "| 4 KiB GET, 32 conn., ops/s |",
                "| 4 KiB HEAD, 1 conn., ops/s |",
                "| 4 KiB DELETE, 32 conn., ops/s |",
                "| 1 MiB PUT, 8 threads, MB/s |",
                "| 8 MiB GET, one stream, MB/s |",
                "multipart upload",
                "| ListObjectsV2 page of 1,000 at 300 keys, ms |",
                "| Server peak RSS during the 8 MiB transfers, MB |",
                "## Targets from the issue",
                "**Physical limits, same run:**"):
        assert row in text, f"missing {row!r} in:\n{text}"
    # every objectstore cell in the main table holds a figure, not a failure
    table = text.split("| Workload |", 1)[1].split("\n\n", 1)[0]
    assert "failed" not in table, table
