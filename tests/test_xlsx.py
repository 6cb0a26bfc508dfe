"""Excel (.xlsx) packages: the same sheets as the CSV files, with size and row limits."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from factories import (
    USCC_WESTLAKE,
    clear_database,
    cli,
    columns_for,
    overseas,
    qilin_import,
    report_counts,
    round_,
    table_counts,
    westlake,
    write_package,
    yinzhou,
)
from qilin import config as qilin_config
from qilin.registry.models import Enterprise, FundingRound


def write_xlsx(path: Path, **sheets: list[dict[str, Any]]) -> Path:
    """One sheet per kind, with the package columns of that kind; values keep their Python type."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for kind, rows in sheets.items():
        sheet = workbook.create_sheet(kind)
        columns = columns_for(kind, rows)
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c) for c in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set QILIN_* variables for one test; the cached settings are rebuilt before and after."""
    qilin_config.get_settings.cache_clear()
    yield monkeypatch
    qilin_config.get_settings.cache_clear()


COMPANIES = [
    westlake(founded_on=dt.date(2018, 3, 12), status="operating", status_as_of=dt.date(2024, 1, 1)),
    yinzhou(founded_on=dt.date(2015, 7, 1)),
    overseas(founded_on=dt.datetime(2011, 10, 10)),
]
ROUNDS = [
    round_(
        "zj-westlake", dt.date(2020, 6, 1), round_type="A+轮", amount="1.44亿", investors="红杉中国;高瓴资本"
    ),
    round_("zj-westlake", dt.date(2021, 6, 1), round_type="B轮", amount="数千万"),
    round_("zj-yinzhou", dt.date(2022, 1, 5), round_type="天使轮", amount=5_000_000, currency="CNY"),
    round_("us-acme", dt.datetime(2019, 2, 3), round_type="Series A", amount=1234567.5, currency="USD"),
]


def _as_text(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same rows as a CSV file writes them."""

    def text(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.date().isoformat()
        if isinstance(v, dt.date):
            return v.isoformat()
        return v

    return [{k: text(v) for k, v in row.items()} for row in rows]


def test_xlsx_imports_like_csv(engine: Engine, session: Session, tmp_path: Path) -> None:
    csv_pkg = write_package(tmp_path / "csv", companies=_as_text(COMPANIES), rounds=_as_text(ROUNDS))
    result = qilin_import(csv_pkg)
    assert result.exit_code == 0, result.output
    assert cli("export", "--out", tmp_path / "from_csv").exit_code == 0
    clear_database(engine)

    book = write_xlsx(tmp_path / "xlsx" / "package.xlsx", companies=COMPANIES, rounds=ROUNDS)
    result = qilin_import(book)
    assert result.exit_code == 0, result.output
    counts = report_counts(result.output)
    assert (counts["companies"]["inserted"], counts["rounds"]["inserted"]) == (3, 4)
    assert cli("export", "--out", tmp_path / "from_xlsx").exit_code == 0
    for name in sorted(p.name for p in (tmp_path / "from_csv").iterdir()):
        assert (tmp_path / "from_xlsx" / name).read_bytes() == (tmp_path / "from_csv" / name).read_bytes(), (
            name
        )

    # Excel date cells became ISO dates, number cells exact amounts
    stored = session.get(Enterprise, "zj-westlake")
    assert stored is not None
    assert (stored.founded_on, stored.uscc, stored.status_as_of) == (
        dt.date(2018, 3, 12),
        USCC_WESTLAKE,
        dt.date(2024, 1, 1),
    )
    acme = session.get(Enterprise, "us-acme")
    assert acme is not None and acme.founded_on == dt.date(2011, 10, 10)
    amounts = dict(session.execute(select(FundingRound.announced_on, FundingRound.amount)).tuples().all())
    assert amounts == {
        dt.date(2020, 6, 1): Decimal("144000000"),
        dt.date(2021, 6, 1): None,
        dt.date(2022, 1, 5): Decimal("5000000"),
        dt.date(2019, 2, 3): Decimal("1234567.5"),
    }


def test_xlsx_sheet_kind_from_file_name(session: Session, tmp_path: Path) -> None:
    """A workbook with one sheet (any title) named after its kind, in a folder beside CSV files."""
    folder = write_package(tmp_path / "pkg", companies=_as_text([westlake()]))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(["company_id", "announced_on", "round_type", "amount"])
    sheet.append(["zj-westlake", dt.date(2023, 4, 5), "天使轮", "500万"])
    workbook.save(folder / "rounds_2023.xlsx")
    result = qilin_import(folder)
    assert result.exit_code == 0, result.output
    (stored,) = session.scalars(select(FundingRound)).all()
    assert (stored.announced_on, stored.round_type, stored.amount) == (
        dt.date(2023, 4, 5),
        "angel",
        Decimal(5_000_000),
    )


def test_xlsx_errors_name_the_sheet_and_row(engine: Engine, tmp_path: Path) -> None:
    book = write_xlsx(
        tmp_path / "book.xlsx",
        companies=[westlake(), yinzhou(founded_on="2023/01/05")],
    )
    result = qilin_import(book)
    assert result.exit_code != 0
    assert "book.xlsx[companies] 第 3 行 founded_on 列 值“2023/01/05”" in result.output
    assert "book.xlsx[companies], line 3, column founded_on, value '2023/01/05'" in result.output
    assert all(n == 0 for n in table_counts(engine).values())


def test_xlsx_skip_invalid_writes_rejects_per_sheet(session: Session, tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", companies=[westlake(), yinzhou(founded_on="2023/01/05")])
    result = qilin_import(book, "--skip-invalid")
    assert result.exit_code == 0, result.output
    rejects = tmp_path / "book.companies.rejects.csv"
    assert rejects.exists()
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and lines[1].startswith("3,founded_on,")
    assert list(session.scalars(select(Enterprise.id))) == ["zj-westlake"]


def test_xlsx_over_the_row_limit_is_refused(
    engine: Engine, tmp_path: Path, settings_env: pytest.MonkeyPatch
) -> None:
    settings_env.setenv("QILIN_XLSX_MAX_ROWS", "5")
    companies = [overseas(id=f"c{i}", name=f"Company {i}") for i in range(6)]
    result = qilin_import(write_xlsx(tmp_path / "big.xlsx", companies=companies))
    assert result.exit_code != 0
    assert "Excel 工作表 companies 行数过多（上限 5 行）" in result.output
    assert "Excel sheet companies has too many rows (limit 5)" in result.output
    assert "Traceback" not in result.output
    assert all(n == 0 for n in table_counts(engine).values())
    # exactly at the limit is fine
    result = qilin_import(write_xlsx(tmp_path / "ok.xlsx", companies=companies[:5]))
    assert result.exit_code == 0, result.output
    assert table_counts(engine)["enterprises"] == 5


def test_xlsx_over_the_size_limit_is_refused(
    engine: Engine, tmp_path: Path, settings_env: pytest.MonkeyPatch
) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", companies=[westlake(), overseas()])
    size = book.stat().st_size
    settings_env.setenv("QILIN_XLSX_MAX_BYTES", str(size - 1))
    result = qilin_import(book)
    assert result.exit_code != 0
    assert f"Excel 文件过大（{size} 字节，上限 {size - 1} 字节）" in result.output
    assert f"Excel file too large ({size} bytes, limit {size - 1})" in result.output
    assert all(n == 0 for n in table_counts(engine).values())
    settings_env.setenv("QILIN_XLSX_MAX_BYTES", str(size))
    qilin_config.get_settings.cache_clear()
    assert qilin_import(book).exit_code == 0


def test_xlsx_over_the_uncompressed_limit_is_refused(
    engine: Engine, tmp_path: Path, settings_env: pytest.MonkeyPatch
) -> None:
    settings_env.setenv("QILIN_XLSX_MAX_UNCOMPRESSED_BYTES", "1000")
    result = qilin_import(write_xlsx(tmp_path / "book.xlsx", companies=[westlake()]))
    assert result.exit_code != 0
    assert "Excel 文件过大" in result.output and "limit 1000" in result.output
    assert all(n == 0 for n in table_counts(engine).values())


@pytest.mark.parametrize(
    "content",
    [os.urandom(4096), b"PK\x03\x04" + os.urandom(2000), b""],
    ids=["random-bytes", "broken-zip", "empty"],
)
def test_corrupt_xlsx_gives_a_clear_message(engine: Engine, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "companies.xlsx"
    path.write_bytes(content)
    result = qilin_import(path)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "companies.xlsx：无法读取 Excel 文件" in result.output
    assert "companies.xlsx: cannot read the Excel file" in result.output
    assert "Traceback" not in result.output
    assert all(n == 0 for n in table_counts(engine).values())
