"""Discovery reads a data package in any of DESIGN §5's shapes: CSV or XLSX (one workbook with a sheet per
kind, or a file per kind), a kind split over several files (``rounds_2012.csv``), a file known by its header
row. The same records give the same features and ranking whichever shape holds them; a damaged workbook, a
bad date in a sheet and a company id given twice are refused with a bilingual message naming the place."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from qilin.cli import app
from qilin.discovery.data import DataPackage, DiscoveryError, read_package
from qilin.discovery.features import build_features
from qilin.discovery.model import DEFAULT_MODEL_PATH as DEFAULT_MODEL
from qilin.discovery.model import load_model, rank
from test_discovery_fixtures import write_chinese_package, write_csv, write_subset

AS_OF = dt.date(2012, 10, 1)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


@pytest.fixture(scope="module")
def csv_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_subset(tmp_path_factory.mktemp("csv"), others=300)


def _cell(value: str | None) -> object:
    """What a spreadsheet holds for a CSV value: dates and plain numbers as typed cells, text as text."""
    if value is None:
        return None
    if _DATE.match(value):
        return dt.date.fromisoformat(value)
    if _NUMBER.match(value) and not value.startswith("0"):
        return float(value)
    return value


def _sheet(workbook: Workbook, title: str, frame: pl.DataFrame, *, blank_rows: int = 0) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(frame.columns)
    for _ in range(blank_rows):
        sheet.append([])
    for row in frame.iter_rows():
        sheet.append([_cell(v) for v in row])


def _frames(folder: Path) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_csv(p, infer_schema=False) for p in sorted(folder.glob("*.csv"))}


def _same(a: DataPackage, b: DataPackage) -> None:
    """Equal records (a spreadsheet's free-text number "35000000.0" may read back as "35000000", so
    acquisitions and unicorn events are compared on what discovery uses) and equal features."""
    columns = {
        "companies": a.companies.columns,
        "rounds": a.rounds.columns,
        "acquisitions": ["company_id", "acquired_on"],
        "unicorn_events": ["company_id", "joined_on"],
    }
    for name, key in columns.items():
        left, right = getattr(a, name).select(key), getattr(b, name).select(key)
        assert_frame_equal(left.sort(key), right.sort(key), check_dtypes=False)
    assert_frame_equal(build_features(a, AS_OF), build_features(b, AS_OF))


def test_one_workbook_reads_like_the_csv_files(tmp_path: Path, csv_package: Path) -> None:
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    _sheet(workbook, "说明", pl.DataFrame({"说明": ["合成测试数据 / synthetic test data"]}))
    for name, frame in _frames(csv_package).items():
        _sheet(workbook, name, frame)
    workbook.save(tmp_path / "package.xlsx")
    from_csv, from_xlsx = read_package(csv_package), read_package(tmp_path)
    assert from_xlsx.rounds.height == from_csv.rounds.height > 100
    assert from_xlsx.companies["founded_on"].dtype == pl.Date
    _same(from_csv, from_xlsx)
    model, _ = load_model(Path("src/qilin/discovery/models/default.json"))
    assert_frame_equal(rank(from_csv, as_of=AS_OF, model=model), rank(from_xlsx, as_of=AS_OF, model=model))


def test_a_kind_split_over_files_and_shapes(tmp_path: Path, csv_package: Path) -> None:
    frames = _frames(csv_package)
    rounds = frames.pop("rounds").with_row_index()
    early = rounds.filter(pl.col("index") % 3 == 0).drop("index")
    late = rounds.filter(pl.col("index") % 3 == 1).drop("index")
    rest = rounds.filter(pl.col("index") % 3 == 2).drop("index")
    early.write_csv(tmp_path / "rounds_part1.csv")
    late.write_csv(tmp_path / "融资记录.csv")  # no kind in its name: known by its header row
    workbook = Workbook()
    _sheet(workbook, "Sheet1", rest)  # a single sheet: the file's name gives the kind
    workbook.save(tmp_path / "rounds_part3.xlsx")
    for name, frame in frames.items():
        frame.write_csv(tmp_path / f"{name}[2012].csv")  # brackets: a file name, never a pattern
    (tmp_path / "README.md").write_text("not data\n", encoding="utf-8")
    (tmp_path / "operating_reports.csv").write_text("company_id,year\nx,2012\n", encoding="utf-8")
    _same(read_package(csv_package), read_package(tmp_path))


def test_csv_package_fingerprint_is_over_the_files_read(tmp_path: Path, csv_package: Path) -> None:
    before = read_package(csv_package).fingerprint
    for p in csv_package.glob("*.csv"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    assert read_package(tmp_path).fingerprint == before
    (tmp_path / "README.md").write_text("notes\n", encoding="utf-8")
    assert read_package(tmp_path).fingerprint == before
    rounds = tmp_path / "rounds.csv"
    rounds.write_text(rounds.read_text(encoding="utf-8") + "/company/x,2012-01-01,seed,1,USD\n", "utf-8")
    assert read_package(tmp_path).fingerprint != before


def _minimal(folder: Path) -> Path:
    write_csv(folder / "companies.csv", ["id", "name", "founded_on"], [["a", "A", "2010-01-01"]])
    write_csv(folder / "rounds.csv", ["company_id", "announced_on"], [["a", "2011-01-01"]])
    return folder


def test_a_damaged_workbook_is_refused(tmp_path: Path) -> None:
    _minimal(tmp_path)
    (tmp_path / "valuations.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DiscoveryError) as error:
        read_package(tmp_path)
    assert error.value.key == "data.bad_file"
    assert "valuations.xlsx" in error.value.zh and "valuations.xlsx" in error.value.en


def test_a_bad_date_in_a_sheet_names_the_sheet_and_line(tmp_path: Path) -> None:
    write_csv(tmp_path / "companies.csv", ["id", "name"], [["a", "A"]])
    workbook = Workbook()
    frame = pl.DataFrame({"company_id": ["a", "a"], "announced_on": ["2011-01-01", "2011年3月"]})
    _sheet(workbook, "rounds", frame, blank_rows=2)  # lines 2-3 blank, the bad value on line 5
    workbook.save(tmp_path / "data.xlsx")
    with pytest.raises(DiscoveryError) as error:
        read_package(tmp_path)
    assert error.value.key == "data.bad_date"
    assert error.value.fields["name"] == "data.xlsx[rounds]"
    assert error.value.fields["line"] == 5
    assert "2011年3月" in str(error.value)


def test_a_company_id_given_twice_is_refused(tmp_path: Path) -> None:
    _minimal(tmp_path)
    write_csv(tmp_path / "companies_more.csv", ["id", "name"], [["b", "B"], ["a", "A again"]])
    with pytest.raises(DiscoveryError) as error:
        read_package(tmp_path)
    assert error.value.key == "data.duplicate_id"
    assert error.value.fields["places"] == "companies.csv:2, companies_more.csv:3"


def test_a_csv_not_in_utf8_is_refused_and_a_bom_is_not(tmp_path: Path) -> None:
    package = write_chinese_package(tmp_path / "zj")
    companies = package / "companies.csv"
    text = companies.read_text(encoding="utf-8")
    companies.write_bytes(text.encode("gbk"))  # Excel's plain "CSV" on a Chinese Windows
    with pytest.raises(DiscoveryError) as error:
        read_package(package)
    assert error.value.key == "data.encoding"
    assert error.value.fields == {"name": "companies.csv", "line": 2}  # the header is ASCII
    assert "CSV UTF-8" in error.value.zh and "CSV UTF-8" in error.value.en
    companies.write_bytes(text.encode("utf-8-sig"))  # Excel's "CSV UTF-8" starts with a BOM
    cities = read_package(package).companies["city"].to_list()
    assert "杭州市" in cities


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    write_csv(tmp_path / "companies.csv", ["id", "name", " id"], [["a", "A", "b"]])
    write_csv(tmp_path / "rounds.csv", ["company_id", "announced_on"], [["a", "2011-01-01"]])
    with pytest.raises(DiscoveryError) as error:
        read_package(tmp_path)  # Polars itself failed on the cleaned names with a traceback
    assert error.value.key == "data.bad_file"
    assert "列名重复：id" in error.value.zh and "named more than once: id" in error.value.en
    (tmp_path / "companies.csv").unlink()
    workbook = Workbook()
    _sheet(workbook, "companies", pl.DataFrame({"id": ["a"], "name": ["A"]}))
    notes = workbook.create_sheet("说明")  # not data: its repeated headers do not matter
    notes.append(["说明", "说明"])
    workbook.save(tmp_path / "companies.xlsx")
    assert read_package(tmp_path).companies["company_id"].to_list() == ["a"]


def test_cli_answers_a_bad_workbook_in_both_languages(tmp_path: Path) -> None:
    package = write_chinese_package(tmp_path / "zj")
    (package / "rounds.xlsx").write_bytes(b"garbage")
    result = CliRunner().invoke(
        app,
        [
            "discover",
            "rank",
            "--data",
            str(package),
            "--as-of",
            "2023-12-31",
            "--out",
            str(tmp_path / "r.csv"),
        ],
    )
    assert result.exit_code == 1
    assert "rounds.xlsx" in result.stderr and " / " in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_row_order_decides_nothing(tmp_path: Path, csv_package: Path, seed: int) -> None:
    """Rounds announced on one day (251 such rows in the dev split) are ordered by stage, size and type, so
    a package written in another row order gives the same features."""
    frames = _frames(csv_package)
    same_day = frames["rounds"].filter(pl.struct("company_id", "announced_on").is_duplicated())
    assert same_day.height >= 2
    for name, frame in frames.items():
        frame.sample(fraction=1.0, shuffle=True, seed=seed).write_csv(tmp_path / f"{name}.csv")
    expected = build_features(read_package(csv_package), AS_OF)
    assert_frame_equal(expected, build_features(read_package(tmp_path), AS_OF))


def test_what_reading_sets_aside_is_reported(tmp_path: Path) -> None:
    write_csv(tmp_path / "companies.csv", ["id", "name", "founded_on"], [["a", "甲", "2010-01-01"]])
    write_csv(
        tmp_path / "rounds.csv",
        ["company_id", "announced_on", "round_type", "amount", "currency"],
        [
            ["a", "2011-01-01", "A轮", "约一些钱", "CNY"],  # unreadable
            ["a", "2012-01-01", "B轮", "1000000", "XYZ"],  # no such currency
            ["a", "1998-06-01", "天使轮", "500000", "EUR"],  # before the FX table (2000)
            ["a", "2013-01-01", "C轮", "2亿元", ""],
            ["ghost", "2012-05-01", "A轮", "1000万", "CNY"],  # not in companies
            ["ghost", "2012-06-01", "B轮", "", ""],
        ],
    )
    package = read_package(tmp_path)
    notes = {note.key: note.fields for note in package.notes}
    assert notes["note.orphan_rows"] == {"name": "rounds", "count": 2, "examples": "ghost"}
    assert notes["note.unreadable_amount"]["count"] == 1
    assert notes["note.no_fx_rate"] == {"name": "rounds", "count": 2, "examples": "EUR 1998, XYZ 2012"}
    assert all(" / " in str(note) for note in package.notes)
    features = build_features(package, dt.date(2014, 1, 1))
    assert features["company_id"].to_list() == ["a"]
    assert features["n_rounds"][0] == 4
    result = CliRunner().invoke(
        app,
        [
            "discover",
            "rank",
            "--data",
            str(tmp_path),
            "--as-of",
            "2014-01-01",
            "--out",
            str(tmp_path / "r.csv"),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "ghost" in result.stderr and "XYZ 2012" in result.stderr and "约一些钱" in result.stderr


def test_a_clean_package_has_no_notes(csv_package: Path) -> None:
    assert read_package(csv_package).notes == ()


def test_bad_values_found_by_fuzzing_are_set_aside_and_noted(tmp_path: Path) -> None:
    """Each of these was read silently: a 10²⁶ amount ranked its company first, a NaN, negative or 1e308
    post-money became a valuation, unreadable valuations and rows without a required value vanished, and a
    company whose status was written ``Operating`` counted as closed."""
    write_csv(
        tmp_path / "companies.csv",
        ["id", "name", "founded_on", "status", "status_as_of"],
        [
            ["a", "甲", "2010-01-01", "Operating", "2013-01-01"],
            ["b", "乙", "2010-01-01", "在营", "2013-01-01"],
            ["", "无编号", "2010-01-01", "operating", "2013-01-01"],
        ],
    )
    write_csv(
        tmp_path / "rounds.csv",
        ["company_id", "announced_on", "round_type", "amount", "currency", "post_money_valuation"],
        [
            ["a", "2011-01-01", "A轮", "99999999999999999999999999", "USD", "NaN"],
            ["a", "2011-06-01", "B轮", "1000000", "USD", "-5"],
            ["a", "2012-01-01", "C轮", "2000000", "USD", "1e308"],
            ["a", "2012-06-01", "C轮", "2000000", "USD", "10亿"],
            ["a", "", "D轮", "3000000", "USD", ""],
            ["b", "2012-01-01", "A轮", "1000000", "USD", ""],
        ],
    )
    write_csv(
        tmp_path / "valuations.csv",
        ["company_id", "as_of", "value", "currency"],
        [
            ["a", "2012-01-01", "NaN", "USD"],
            ["a", "2012-02-01", "约一些", "USD"],
            ["b", "2012-01-01", "9", "XYZ"],
        ],
    )
    package = read_package(tmp_path)
    notes = {(n.key, n.fields["name"]): n.fields for n in package.notes}
    assert notes[("note.unreadable_amount", "rounds")]["examples"] == "99999999999999999999999999"
    assert notes[("note.unreadable_amount", "rounds.post_money_valuation")]["count"] == 3
    assert notes[("note.unreadable_amount", "valuations")]["count"] == 2
    assert notes[("note.no_fx_rate", "valuations")]["examples"] == "XYZ 2012"
    assert notes[("note.missing_required", "rounds")]["examples"] == "rounds.csv:6"
    assert notes[("note.missing_required", "companies")]["examples"] == "companies.csv:4"
    assert notes[("note.unknown_status", "companies")]["examples"] == "b (在营)"
    assert all(" / " in str(note) for note in package.notes)
    assert package.rounds["amount"].max() == 2_000_000
    features = build_features(package, dt.date(2013, 6, 1)).filter(pl.col("company_id") == "a")
    assert features["latest_valuation_usd"][0] == 1e9  # 10亿 in the round's currency (USD); NaN … set aside
    ranking = rank(package, as_of=dt.date(2013, 6, 1), model=load_model(DEFAULT_MODEL)[0])
    assert ranking["company_id"].to_list() == ["a"]  # Operating is operating; 在营 is not DESIGN's word


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"", "是空文件"), (b'company_id,announced_on,"' + b"x" * 200_000 + b'"\n', "field limit")],
)
def test_an_empty_or_unparseable_csv_is_refused_in_both_languages(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    _minimal(tmp_path)
    (tmp_path / "rounds.csv").write_bytes(content)
    with pytest.raises(DiscoveryError) as error:
        read_package(tmp_path)
    assert needle in str(error.value) and " / " in str(error.value)
