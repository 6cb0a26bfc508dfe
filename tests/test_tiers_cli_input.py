"""Inputs found by fuzzing ``qilin tiers`` and ``qilin selection``: dates after today or before 1900, reversed
diff dates, Rich markup in stored names, a notice period already over, numbers beyond 64 bits, a standards
file that is not UTF-8, and check-standard on the shipped standards. Each gives a clear bilingual message
and a non-zero exit (or works), never a traceback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import Result

from factories import cli
from qilin import config as qilin_config
from qilin.demo.service import build_demo
from qilin.registry.models import Enterprise
from qilin.tiers import selection, service, standards
from qilin.tiers.evaluate import age_cutoff, evaluate
from qilin.tiers.facts import EnterpriseFacts
from qilin.tiers.models import TierSnapshot
from qilin.tiers.selection import SelectionError
from qilin.tiers.service import TierError

AS_OF = "2025-06-30"
YEAR = 2025
EVIL = "Evil[/bold] [red]x :smile:"


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    assert result.exception is None, result.exception
    return result.output


def _fails_cleanly(result: Result, *words: str) -> str:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output
    return result.output


@pytest.fixture
def registry(session: Session, frozen_today: str) -> Session:
    """A small demo registry; today is 2026-06-30."""
    build_demo(session, enterprises=200, seed=4)
    session.commit()
    return session


def _snapshots(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TierSnapshot)) or 0


# ---- 1, 2: as-of dates after today or before 1900 ---------------------------------------------------------


@pytest.mark.parametrize("day", ["2026-07-01", "9999-12-31"])
def test_an_as_of_date_after_today_is_refused(registry: Session, day: str) -> None:
    some_id = registry.scalar(select(Enterprise.id).limit(1))
    assert some_id is not None
    for args in (("snapshot",), ("evaluate",), ("explain", some_id)):
        _fails_cleanly(
            cli("tiers", *args, "--as-of", day), "晚于今天（2026-06-30）", "after today (2026-06-30)"
        )
    assert _snapshots(registry) == 0  # the cockpit would have taken it for the latest snapshot
    with pytest.raises(TierError, match="after today"):
        service.take_snapshot(registry, as_of=dt.date.fromisoformat(day))
    _ok(cli("tiers", "snapshot", "--as-of", "2026-06-30"))  # today itself is fine
    assert _snapshots(registry) == 1


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31"])
def test_an_as_of_date_before_1900_is_refused(registry: Session, day: str) -> None:
    some_id = registry.scalar(select(Enterprise.id).limit(1))
    assert some_id is not None
    for args in (("snapshot",), ("evaluate",), ("explain", some_id)):
        _fails_cleanly(cli("tiers", *args, "--as-of", day), "早于 1900-01-01", "before 1900-01-01")
    assert _snapshots(registry) == 0
    _ok(cli("tiers", "evaluate", "--as-of", "1900-01-01", "--format", "csv"))


def test_age_arithmetic_works_at_the_start_of_the_calendar() -> None:
    """The evaluator is pure: any date works, even where "ten years before" precedes year 1."""
    assert age_cutoff(dt.date(1, 1, 1), 10) == dt.date.min
    assert age_cutoff(dt.date(5, 3, 1), 10) == dt.date.min
    assert age_cutoff(dt.date(11, 1, 2), 10) == dt.date(1, 1, 2)
    assert age_cutoff(dt.date(2025, 6, 30), 10) == dt.date(2015, 6, 30)
    standard, _ = standards.resolve("zhejiang-2024", dt.date(2025, 6, 30))
    facts = EnterpriseFacts("zj-1", founded_on=dt.date(1, 1, 1), country="CN", region_code="330106")
    for day in (dt.date(1, 1, 1), dt.date(1, 1, 2), dt.date(9, 12, 31)):
        assert evaluate(standard, facts, day).tier == "none"


# ---- 3: reversed diff dates -------------------------------------------------------------------------------


def test_diff_refuses_reversed_dates(registry: Session) -> None:
    _ok(cli("tiers", "snapshot", "--as-of", "2024-06-30"))
    _ok(cli("tiers", "snapshot", "--as-of", AS_OF))
    _fails_cleanly(
        cli("tiers", "diff", "--from", AS_OF, "--to", "2024-06-30"),
        "起始快照日期 2025-06-30 晚于结束快照日期 2024-06-30",
        "--from (2025-06-30) is later than --to (2024-06-30)",
    )
    _ok(cli("tiers", "diff", "--from", "2024-06-30", "--to", AS_OF))
    assert "无变化 / no change" in _ok(cli("tiers", "diff", "--from", AS_OF, "--to", AS_OF))


# ---- 4: Rich markup in stored and typed text --------------------------------------------------------------


def _name_one_in_a_tier(session: Session) -> str:
    evaluation = service.evaluate_registry(session, as_of=dt.date.fromisoformat(AS_OF))
    chosen = next(r.enterprise_id for r in evaluation.results if r.tier != "none")
    session.execute(update(Enterprise).where(Enterprise.id == chosen).values(name=EVIL))
    session.commit()
    return chosen


def test_markup_in_names_is_printed_as_text(registry: Session) -> None:
    chosen = _name_one_in_a_tier(registry)
    out = _ok(cli("tiers", "evaluate", "--as-of", AS_OF))
    assert EVIL in out
    explained = _ok(cli("tiers", "explain", chosen, "--as-of", AS_OF))
    assert EVIL in explained

    registry.close()
    _ok(cli("tiers", "snapshot", "--as-of", AS_OF))
    _ok(cli("selection", "create", "--year", str(YEAR), "--as-of", AS_OF, "--actor", "[bold]省经信厅"))
    _ok(cli("selection", "exclude", str(YEAR), chosen, "--actor", "[/red]", "--reason", "[/bold] :x:"))
    shown = _ok(cli("selection", "show", str(YEAR)))
    for text in (EVIL, "[bold]省经信厅", "[/red]", "[/bold] :x:"):
        assert text in shown, text


def test_markup_in_a_standard_is_printed_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings_reset: None
) -> None:
    text = (
        "id: evil-[/bold]\nversion: 1\nname_zh: 恶意[/bold]\nname_en: evil [red]\n"
        "effective_from: 2022-01-01\ntiers:\n  - tier: unicorn\n    criteria:\n      - not_listed: true\n"
    )
    (tmp_path / "evil.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("QILIN_STANDARDS_DIR", str(tmp_path))
    qilin_config.get_settings.cache_clear()
    out = _ok(cli("tiers", "standards"))
    assert "evil-[/bold]" in out and "恶意[/bold]" in out


# ---- 5: a notice period already over ----------------------------------------------------------------------


@pytest.fixture
def in_provincial_review(registry: Session) -> Session:
    service.take_snapshot(registry, as_of=dt.date.fromisoformat(AS_OF))
    registry.commit()
    selection.create(
        registry, year=YEAR, standard_id="zhejiang-2024", as_of=dt.date.fromisoformat(AS_OF), actor="省经信厅"
    )
    selection.advance(registry, year=YEAR, to_state="city_review", actor="杭州市经信局")
    selection.advance(registry, year=YEAR, to_state="provincial_review", actor="杭州市经信局")
    registry.commit()
    return registry


def test_public_notice_refuses_a_period_already_over(in_provincial_review: Session) -> None:
    session = in_provincial_review
    D = dt.date.fromisoformat
    for start, end in (("0001-01-01", "0001-01-01"), ("2026-06-01", "2026-06-29")):
        with pytest.raises(SelectionError) as exc:
            selection.advance(
                session, year=YEAR, to_state="public_notice", actor="省经信厅",
                notice_start=D(start), notice_end=D(end),
            )  # fmt: skip
        assert exc.value.key == "selection.notice_ended"
    with pytest.raises(SelectionError) as exc:
        selection.advance(
            session, year=YEAR, to_state="public_notice", actor="省经信厅",
            notice_start=D("2025-06-29"), notice_end=D("2026-07-10"),
        )  # fmt: skip
    assert exc.value.key == "selection.notice_before_snapshot"
    assert selection.get(session, year=YEAR).state == "provincial_review"
    session.close()

    advance = ("selection", "advance", str(YEAR), "--to", "public_notice", "--actor", "省经信厅")
    ended = cli(*advance, "--notice-start", "0001-01-01", "--notice-end", "0001-01-01")
    _fails_cleanly(ended, "公示期已于 0001-01-01 结束", "the objection period ended on 0001-01-01")
    # a period ending today is still open today
    _ok(cli(*advance, "--notice-start", "2026-06-30", "--notice-end", "2026-06-30"))


# ---- 6: years and ids out of range ------------------------------------------------------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize("year", ["-1", "0", "1999", "2101", HUGE, "abc"])
def test_selection_years_out_of_range_are_refused(registry: Session, year: str) -> None:
    words = ("遴选年度应为 2000 至 2100 之间的整数", "a selection year is a whole number from 2000 to 2100")
    _fails_cleanly(cli("selection", "show", "--", year), *words)
    _fails_cleanly(cli("selection", "create", "--year", year, "--as-of", AS_OF), *words)
    _fails_cleanly(cli("selection", "advance", "--to", "city_review", "--actor", "x", "--", year), *words)


def test_numbers_beyond_64_bits_do_not_reach_the_database(in_provincial_review: Session) -> None:
    session = in_provincial_review
    for year in (-1, 0, 10**20):
        with pytest.raises(SelectionError) as exc:
            selection.get(session, year=year)
        assert exc.value.key == "selection.year_range"
        with pytest.raises(SelectionError) as exc:
            selection.create(session, year=year, standard_id="zhejiang-2024", as_of=dt.date(2025, 6, 30),
                             actor="x")  # fmt: skip
        assert exc.value.key == "selection.year_range"
    for objection_id in (0, -5, 2**31, 10**20):
        with pytest.raises(SelectionError) as exc:
            selection.resolve_objection(
                session, year=YEAR, objection_id=objection_id, upheld=True, actor="x", comment="y"
            )
        assert exc.value.key == "selection.objection_not_found"
    session.close()
    resolve = ("--upheld", "--actor", "x", "--comment", "y")
    for objection_id in ("0", str(2**31), HUGE, "x"):
        _fails_cleanly(
            cli("selection", "resolve", str(YEAR), objection_id, *resolve),
            "异议编号应为正整数",
            "an objection id is a positive whole number",
        )
    _fails_cleanly(
        cli("selection", "resolve", str(YEAR), str(2**31 - 1), *resolve), "没有编号为", "has no objection"
    )


# ---- 7: a standards file that is not UTF-8 ----------------------------------------------------------------


@pytest.fixture
def settings_reset() -> Iterator[None]:
    qilin_config.get_settings.cache_clear()
    yield
    qilin_config.get_settings.cache_clear()


def _shipped(name: str) -> str:
    return resources.files("qilin.tiers").joinpath("standards", name).read_text(encoding="utf-8")


def test_a_standard_that_is_not_utf8_is_named_in_both_languages(
    registry: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings_reset: None
) -> None:
    bad = tmp_path / "beijing-2030.yaml"
    bad.write_bytes("id: beijing-2030\nname_zh: 北京\n".encode("gb18030"))
    words = (f"标准文件 {bad} 不是 UTF-8 编码", f"the standard file {bad} is not UTF-8")
    _fails_cleanly(cli("tiers", "check-standard", bad), *words)

    monkeypatch.setenv("QILIN_STANDARDS_DIR", str(tmp_path))
    qilin_config.get_settings.cache_clear()
    for args in (("standards",), ("evaluate", "--as-of", AS_OF)):
        _fails_cleanly(cli("tiers", *args), *words)

    # UTF-8 with a byte-order mark (as some editors save it) is UTF-8
    successor = _shipped("gbt-41464-2022.yaml").replace("version: 1", "version: 2")
    successor = successor.replace("effective_from: 2022-01-01", "effective_from: 2026-01-01")
    bad.write_bytes(b"\xef\xbb\xbf" + successor.encode("utf-8"))
    assert "2026-01-01 ~" in _ok(cli("tiers", "standards"))


# ---- 8: check-standard on the shipped standards -----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["gbt-41464-2022.yaml", "hangzhou-quasi.yaml", "shenzhen-2023.yaml", "zhejiang-2024.yaml"]
)
def test_the_shipped_standards_check_clean(name: str, settings_reset: None) -> None:
    path = Path(str(resources.files("qilin.tiers").joinpath("standards", name)))
    out = _ok(cli("tiers", "check-standard", path))
    assert "与已安装的" in out and "identical to the installed" in out


def test_a_successor_of_an_open_ended_version_checks_clean_and_takes_over(
    tmp_path: Path, settings_reset: None
) -> None:
    shipped = _shipped("gbt-41464-2022.yaml")
    successor = shipped.replace("version: 1", "version: 2").replace(
        "effective_from: 2022-01-01", "effective_from: 2026-01-01"
    )
    path = tmp_path / "gbt-v2.yaml"
    path.write_text(successor, encoding="utf-8")
    assert "gbt-41464-2022@v2" in _ok(cli("tiers", "check-standard", path))

    v1 = standards.load_standard(shipped, path="v1.yaml")
    v2 = standards.load_standard(successor, path="v2.yaml")
    standards.check_versions([v2, v1])
    both = (v2, v1)
    assert standards.resolve("gbt-41464-2022", dt.date(2025, 12, 31), both) == (v1, False)
    assert standards.resolve("gbt-41464-2022", dt.date(2026, 1, 1), both) == (v2, False)

    # still refused: the same start date, an edited copy of an installed version
    same_start = standards.load_standard(shipped.replace("version: 1", "version: 2"), path="v2b.yaml")
    with pytest.raises(standards.StandardError, match="overlaps"):
        standards.check_versions([v1, same_start])
    edited = tmp_path / "gbt-v1-edited.yaml"
    edited.write_text(shipped.replace("amount: 10000000000", "amount: 20000000000"), encoding="utf-8")
    _fails_cleanly(cli("tiers", "check-standard", edited), "版本号重复")
