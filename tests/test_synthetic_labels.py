"""Synthetic (模拟) records are labelled wherever they are listed."""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

from factories import cli
from qilin.demo.service import build_demo


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_tier_and_scoring_listings_label_synthetic_enterprises(session: Session) -> None:
    build_demo(session, enterprises=150, seed=21)
    session.commit()
    tiers = _rows(cli("tiers", "evaluate", "--as-of", "2025-06-30", "--format", "csv").output)
    assert {r["synthetic"] for r in tiers if r["company_id"].startswith("SYN-")} == {"1"}
    assert {r["synthetic"] for r in tiers if r["company_id"].startswith("CBI-")} == {"0"}
    scores = _rows(cli("scoring", "rank", "--as-of", "2025-06-30", "--format", "csv").output)
    assert scores and all(
        r["synthetic"] == ("1" if r["company_id"].startswith("SYN-") else "0") for r in scores
    )
    table = cli("scoring", "rank", "--as-of", "2025-06-30", "--limit", "3").output
    assert "【模拟】" in table


def test_report_csv_neutralises_formula_like_names(session: Session, tmp_path: object) -> None:
    from pathlib import Path

    from factories import qilin_import, write_package

    folder = write_package(
        Path(str(tmp_path)) / "pkg", companies=[{"id": "x-1", "name": "=HYPERLINK(1)", "country": "USA"}]
    )
    assert qilin_import(folder).exit_code == 0
    rows = _rows(cli("tiers", "evaluate", "--as-of", "2025-06-30", "--format", "csv").output)
    assert [r["name"] for r in rows] == ["'=HYPERLINK(1)"]
