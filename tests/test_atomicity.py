"""An import is one transaction: killing it in the middle of writing leaves the database as it was."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from qilin.cli import app
from qilin.registry.models import Enterprise, FundingRound


def _write_big_package(folder: Path, companies: int) -> None:
    folder.mkdir()
    with (folder / "companies.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "country", "founded_on"])
        writer.writerows([f"K{i:06d}", f"Kill test {i}", "USA", "2010-01-01"] for i in range(companies))
    with (folder / "rounds.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["company_id", "announced_on", "round_type", "amount", "currency", "investors"])
        for i in range(companies):
            for n, kind in enumerate(("angel", "series-a", "series-b")):
                writer.writerow(
                    [f"K{i:06d}", f"201{n + 1}-03-01", kind, 1_000_000 * (n + 1), "USD", "Fund A;Fund B"]
                )


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(Enterprise)) or 0,
            conn.scalar(select(func.count()).select_from(FundingRound)) or 0,
        )


def test_killed_import_changes_nothing(db_url: str, engine: Engine, tmp_path: Path) -> None:
    small = tmp_path / "small"
    _write_big_package(small, 5)
    assert CliRunner().invoke(app, ["import", str(small)]).exit_code == 0
    before = _counts(engine)
    assert before == (5, 15)

    big = tmp_path / "big"
    _write_big_package(big, 40_000)
    env = dict(os.environ, QILIN_DATABASE_URL=db_url)
    with subprocess.Popen(
        [sys.executable, "-m", "qilin.cli", "import", str(big)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        seen_writing = False
        for line in proc.stderr:
            if "writing to the database" in line:
                seen_writing = True
                break
        assert seen_writing, "the import never reached its write stage"
        time.sleep(0.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    # PostgreSQL ends the dead client's transaction; a fresh look sees only what was committed.
    assert _counts(engine) == before
