"""Edge cases found by review: each once failed, and now holds."""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from factories import (
    overseas,
    qilin_import,
    read_csv_rows,
    report_counts,
    round_,
    table_counts,
    westlake,
    write_package,
    yinzhou,
)
from qilin.registry.models import Enterprise, OperatingReport
from test_roundtrip import _round_trip


def test_status_history_source_survives_a_round_trip(engine: Engine, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[westlake(source="企查查")],
        status_history=[
            {"company_id": "zj-westlake", "status": "ipo", "as_of": "2024-05-01", "source": "上交所公告"}
        ],
    )
    exported, again = _round_trip(engine, tmp_path, pkg)
    assert exported["status_history.csv"] == again["status_history.csv"]


def test_too_long_acquirer_name_is_refused_with_a_message(engine: Engine, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[overseas()],
        acquisitions=[{"company_id": "us-acme", "acquired_on": "2025-01-01", "acquirer_name": "甲" * 201}],
    )
    result = qilin_import(pkg)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), repr(result.exception)
    assert "acquisitions.csv 第 2 行 acquirer_name 列" in result.output
    assert "内容过长（最多 200 个字符）" in result.output
    assert all(n == 0 for n in table_counts(engine).values())


def test_empty_synthetic_cell_keeps_the_synthetic_flag(session: Session, tmp_path: Path) -> None:
    assert qilin_import(write_package(tmp_path / "a", companies=[westlake(synthetic="1")])).exit_code == 0
    result = qilin_import(write_package(tmp_path / "b", companies=[westlake()]))
    assert result.exit_code == 0
    assert report_counts(result.output)["companies"]["updated"] == 0
    assert session.get(Enterprise, "zj-westlake").is_synthetic is True


def test_rejects_message_counts_rows_not_issues(engine: Engine, tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg", companies=[westlake(), yinzhou(uscc="X", founded_on="2023/01/05")])
    result = qilin_import(pkg, "--skip-invalid")
    assert result.exit_code == 0
    assert len(read_csv_rows(pkg / "companies.rejects.csv")) == 1
    assert "1 invalid rows written to" in result.output, result.output


def test_too_long_round_label_names_the_round_label_column(engine: Engine, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[overseas()],
        rounds=[round_("us-acme", "2024-01-01", round_type="seed", round_label="L" * 41)],
    )
    result = qilin_import(pkg)
    assert result.exit_code == 1
    assert "rounds.csv 第 2 行 round_label 列" in result.output, result.output


def test_xlsx_with_a_corrupt_sheet_gives_a_clear_message(engine: Engine, tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    workbook = Workbook()
    workbook.active.title = "companies"
    workbook.active.append(["id", "name"])
    workbook.active.append(["a", "A"])
    workbook.save(good)
    bad = tmp_path / "companies.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # truncated XML
            dst.writestr(info.filename, data)
    result = qilin_import(bad)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "companies.xlsx: cannot read the Excel file" in result.output


def test_acquisition_in_lifecycle_file_is_sent_to_its_own_file(engine: Engine, tmp_path: Path) -> None:
    """Acquisitions and list entries have files of their own; in lifecycle_events.csv they are refused,
    so that an export can always write every event back where it came from."""
    pkg = write_package(
        tmp_path / "pkg",
        companies=[overseas()],
        lifecycle_events=[{"company_id": "us-acme", "kind": "acquisition", "occurred_on": "2020-01-01",
                           "to_region_code": "330106", "detail": "被阿里收购"}],
    )  # fmt: skip
    result = qilin_import(pkg)
    assert result.exit_code == 1
    assert "lifecycle_events.csv 第 2 行 kind 列" in result.output
    assert "acquisitions.csv" in result.output
    assert all(n == 0 for n in table_counts(engine).values())


def test_row_with_more_values_than_the_header_is_reported(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "companies.csv").write_text("id,name\nx,好公司,多出来的值\n", encoding="utf-8")
    result = qilin_import(folder)
    assert result.exit_code == 1
    assert "companies.csv 第 2 行" in result.output and "1 more values than the header" in result.output
    assert all(n == 0 for n in table_counts(engine).values())


def test_zhejiang_update_may_leave_the_stored_uscc_cell_empty(session: Session, tmp_path: Path) -> None:
    assert qilin_import(write_package(tmp_path / "a", companies=[westlake()])).exit_code == 0
    stored = session.get(Enterprise, "zj-westlake")
    assert stored is not None and stored.uscc
    result = qilin_import(
        write_package(tmp_path / "b", companies=[westlake(uscc="", name="西湖新名称科技有限公司")])
    )
    assert result.exit_code == 0, result.output
    session.expire_all()
    updated = session.get(Enterprise, "zj-westlake")
    assert updated is not None and updated.name == "西湖新名称科技有限公司" and updated.uscc == stored.uscc
    # A new Zhejiang enterprise without a USCC is still refused.
    fresh = westlake(id="zj-new", uscc="")
    refused = qilin_import(write_package(tmp_path / "c", companies=[fresh]))
    assert refused.exit_code == 1
    assert "在浙江登记的企业必须填写统一社会信用代码" in refused.output


def test_repeated_operating_report_in_one_import_merges(session: Session, tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        companies=[overseas()],
        operating_reports=[
            {"company_id": "us-acme", "year": "2024", "revenue": "1000000"},
            {"company_id": "us-acme", "year": "2024", "employees": "42"},
            {"company_id": "us-acme", "year": "2024", "employees": "42"},
        ],
    )
    result = qilin_import(pkg)
    assert result.exit_code == 0, result.output
    counts = report_counts(result.output)["operating_reports"]
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (1, 1, 1)
    rows = session.scalars(select(OperatingReport)).all()
    assert len(rows) == 1
    assert rows[0].revenue == 1000000 and rows[0].employees == 42


def test_a_column_named_twice_refuses_the_file(engine: Engine, tmp_path: Path) -> None:
    """Keeping either of two `name` columns would silently drop the other's values (it kept the last)."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    text = "id,name, name ,founded_on\nx,甲公司,乙公司,2015-01-01\n"
    (folder / "companies.csv").write_text(text, encoding="utf-8")
    result = qilin_import(folder)
    assert result.exit_code != 0
    assert "companies.csv：列名重复：name" in result.output
    assert "companies.csv: columns named more than once: name" in result.output
    assert table_counts(engine)["enterprises"] == 0

    book = tmp_path / "data.xlsx"
    workbook = Workbook()
    workbook.active.title = "companies"
    workbook.active.append(["id", "name", "founded_on", "founded_on"])
    workbook.active.append(["x", "甲公司", "2015-01-01", "2016-01-01"])
    workbook.save(book)
    result = qilin_import(book)
    assert result.exit_code != 0
    assert "data.xlsx[companies]：列名重复：founded_on" in result.output
    assert table_counts(engine)["enterprises"] == 0


def test_control_characters_and_invisible_names_are_refused(engine: Engine, tmp_path: Path) -> None:
    """A control character in a name broke every later Excel export (openpyxl refuses it) and PostgreSQL
    refuses NUL; a name of zero-width spaces shows as blank. Line breaks stay allowed (two-line cells)."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    text = (
        "id,name,founded_on\n"
        "a,数梦\x01工场,2015-01-01\n"
        "b,\u200b\u200b,2015-01-01\n"
        'c,"两行\n名称",2015-01-01\n'
    )
    (folder / "companies.csv").write_text(text, encoding="utf-8")
    result = qilin_import(folder)
    assert result.exit_code != 0
    assert "第 2 行 name 列" in result.output and "控制字符（U+0001）" in result.output
    assert "invisible control character (U+0001)" in result.output
    assert "第 3 行 name 列" in result.output and "必填项为空" in result.output
    assert "第 4 行" not in result.output
    assert table_counts(engine)["enterprises"] == 0


def test_excel_cells_drop_what_a_workbook_cannot_hold() -> None:
    from qilin.web.excel import cell

    assert cell("数梦\x01工场\x00") == "数梦工场"
    assert cell("=\x02HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert cell("两行\n名称") == "两行\n名称"
