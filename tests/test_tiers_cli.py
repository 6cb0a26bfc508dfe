"""``qilin tiers`` on both backends: evaluate / explain / snapshot / diff / standards on the demo database and
on a small hand-written package whose changes between two snapshots cover every kind of change."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import Result

from factories import cli, qilin_import, start_up, write_package
from qilin.auth.roles import Role
from qilin.auth.scope import Principal
from qilin.demo.service import build_demo
from qilin.reference import uscc
from qilin.registry.models import Enterprise
from qilin.tiers import service
from qilin.tiers.models import TierSnapshot, TierSnapshotEntry
from qilin.web import views

AS_OF = "2025-06-30"


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    assert result.exception is None
    return result.output


def _fails_cleanly(result: Result, *words: str) -> None:
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output


def _csv(output: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(output)))


@pytest.fixture
def demo(session: Session, frozen_today: str) -> Session:
    build_demo(session, enterprises=800, seed=4)
    session.commit()
    return session


def _founded_by(session: Session, day: dt.date) -> int:
    """The enterprises existing on ``day``: founded on or before it, or on an unknown date."""
    existing = Enterprise.founded_on.is_(None) | (Enterprise.founded_on <= day)
    return session.scalar(select(func.count()).select_from(Enterprise).where(existing)) or 0


def test_evaluate_csv_json_and_standards(demo: Session) -> None:
    assert demo.scalar(select(func.count()).select_from(Enterprise)) == 819  # 800 synthetic and 19 real
    enterprises = _founded_by(demo, dt.date.fromisoformat(AS_OF))
    assert 700 < enterprises < 819  # the demo's later foundings did not exist on AS_OF

    rows = _csv(_ok(cli("tiers", "evaluate", "--as-of", AS_OF, "--format", "csv")))
    assert {"company_id", "tier", "standard", "as_of"} <= set(rows[0])
    assert len(rows) == enterprises
    assert len({r["company_id"] for r in rows}) == enterprises
    assert {r["standard"] for r in rows} == {"zhejiang-2024"}
    assert {r["as_of"] for r in rows} == {AS_OF}
    expected = service.evaluate_registry(demo, as_of=dt.date(2025, 6, 30))
    assert {r["company_id"]: r["tier"] for r in rows} == {x.enterprise_id: x.tier for x in expected.results}
    assert {r["tier"] for r in rows} - {"none"}, "the demo has enterprises in tiers"

    payload = json.loads(_ok(cli("tiers", "evaluate", "--as-of", AS_OF, "--format", "json")))
    assert isinstance(payload, list) and len(payload) == enterprises
    assert {p["company_id"]: p["tier"] for p in payload} == {r["company_id"]: r["tier"] for r in rows}
    assert all(p["standard"] == "zhejiang-2024" and p["as_of"] == AS_OF for p in payload)

    shenzhen = _csv(
        _ok(cli("tiers", "evaluate", "--as-of", AS_OF, "--standard", "shenzhen-2023", "--format", "csv"))
    )
    assert len(shenzhen) == enterprises
    assert {r["standard"] for r in shenzhen} == {"shenzhen-2023"}
    expected_sz = service.evaluate_registry(demo, as_of=dt.date(2025, 6, 30), standard_id="shenzhen-2023")
    assert {r["company_id"]: r["tier"] for r in shenzhen} == {
        x.enterprise_id: x.tier for x in expected_sz.results
    }
    assert {r["tier"] for r in shenzhen} <= {"super_unicorn", "unicorn", "potential_unicorn", "seed", "none"}

    table = _ok(cli("tiers", "evaluate", "--as-of", AS_OF))
    assert "未入库原因" in table and "独角兽" in table

    _fails_cleanly(
        cli("tiers", "evaluate", "--as-of", AS_OF, "--standard", "beijing-2030"),
        "未知的标准",
        "unknown standard",
        "beijing-2030",
    )
    _fails_cleanly(cli("tiers", "evaluate", "--as-of", "2025-02-30"), "YYYY-MM-DD")

    listing = _ok(cli("tiers", "standards"))
    for standard_id in ("gbt-41464-2022", "shenzhen-2023", "hangzhou-quasi", "zhejiang-2024"):
        assert standard_id in listing
    assert "2024-01-01 ~ 2027-12-31" in listing


def test_explain_in_chinese_and_english(demo: Session) -> None:
    rows = _csv(_ok(cli("tiers", "evaluate", "--as-of", AS_OF, "--format", "csv")))
    in_tier = next(r for r in rows if r["tier"] == "unicorn")
    excluded = next(r for r in rows if r["tier"] == "none" and r["synthetic"] == "1")

    zh = _ok(cli("tiers", "explain", in_tier["company_id"], "--as-of", AS_OF))
    assert f"截至 {AS_OF}" in zh
    assert "评定为：独角兽" in zh
    assert in_tier["company_id"] in zh
    assert "成立不超过 10 年" in zh

    en = _ok(cli("tiers", "explain", in_tier["company_id"], "--as-of", AS_OF, "--lang", "en"))
    assert f"as of {AS_OF}" in en
    assert en.splitlines()[0].rstrip().endswith(": unicorn")
    assert "founded at most 10 years ago" in en
    assert "评定为" not in en

    why = _ok(cli("tiers", "explain", excluded["company_id"], "--as-of", AS_OF))
    assert "评定为：未入库" in why
    assert "未入库原因：" in why
    assert "【模拟数据】" in why

    _fails_cleanly(
        cli("tiers", "explain", "no-such-company", "--as-of", AS_OF),
        "企业不存在",
        "no such enterprise",
        "no-such-company",
    )
    _fails_cleanly(
        cli("tiers", "explain", in_tier["company_id"], "--as-of", AS_OF, "--standard", "nope"),
        "unknown standard",
    )


def test_snapshots_are_taken_once_and_immutable(demo: Session, engine: Engine) -> None:
    existing = _founded_by(demo, dt.date.fromisoformat(AS_OF))
    stored = _ok(cli("tiers", "snapshot", "--as-of", AS_OF))
    assert "zhejiang-2024@v1" in stored and str(existing) in stored
    _fails_cleanly(cli("tiers", "snapshot", "--as-of", AS_OF), "快照已存在", "already exists")
    # Another standard on the same date is a different snapshot.
    _ok(cli("tiers", "snapshot", "--as-of", AS_OF, "--standard", "gbt-41464-2022"))

    with engine.connect() as conn:
        snapshots = conn.execute(select(TierSnapshot.id, TierSnapshot.standard_id)).all()
        assert sorted(s.standard_id for s in snapshots) == ["gbt-41464-2022", "zhejiang-2024"]
        before = conn.execute(
            select(TierSnapshotEntry.enterprise_id, TierSnapshotEntry.tier).order_by(
                TierSnapshotEntry.snapshot_id, TierSnapshotEntry.enterprise_id
            )
        ).all()
    assert len(before) == 2 * existing

    def refused(sql: str) -> None:
        with pytest.raises(DBAPIError) as exc, engine.begin() as conn:
            conn.execute(text(sql))
        assert "immutable" in str(exc.value)

    refused("UPDATE tier_snapshot_entries SET tier = 'super_unicorn'")
    refused("UPDATE tier_snapshots SET enterprises = 1")
    if engine.dialect.name == "postgresql":
        refused("DELETE FROM tier_snapshot_entries")
        refused("DELETE FROM tier_snapshots")
    with engine.connect() as conn:
        after = conn.execute(
            select(TierSnapshotEntry.enterprise_id, TierSnapshotEntry.tier).order_by(
                TierSnapshotEntry.snapshot_id, TierSnapshotEntry.enterprise_id
            )
        ).all()
    assert after == before


def test_enterprises_founded_after_the_as_of_date_are_not_evaluated(demo: Session) -> None:
    """An enterprise founded after the as-of date did not exist then: an earlier year's evaluation and
    snapshot counted it (its trace showed an age of minus some days), and explaining it says why not."""
    day = dt.date(2021, 6, 30)
    known = _founded_by(demo, day)
    later = sorted(demo.scalars(select(Enterprise.id).where(Enterprise.founded_on > day)))
    assert later and known and known + len(later) == 819
    evaluated = cli("tiers", "evaluate", "--as-of", day.isoformat(), "--format", "csv")
    assert "追溯适用" in _ok(evaluated)  # the note goes to stderr, the rows to stdout
    rows = _csv(evaluated.stdout)
    assert len(rows) == known and not {r["company_id"] for r in rows} & set(later)
    assert str(known) in _ok(cli("tiers", "snapshot", "--as-of", day.isoformat()))
    entries = select(TierSnapshotEntry.enterprise_id).join(TierSnapshot).where(TierSnapshot.as_of == day)
    assert len(set(demo.scalars(entries))) == known
    founded = demo.get_one(Enterprise, later[0]).founded_on
    assert founded is not None
    _fails_cleanly(
        cli("tiers", "explain", later[0], "--as-of", day.isoformat()),
        f"成立于 {founded}",
        "尚未成立",
        f"founded on {founded}, after the as-of date {day}",
    )
    # on its founding day it exists
    assert "评定为" in _ok(cli("tiers", "explain", later[0], "--as-of", founded.isoformat()))


# ---- diff between two snapshots ---------------------------------------------------------------------------

BEFORE, AFTER = "2024-06-30", "2025-06-30"
_IDS = ("zj-new", "zj-ipo", "zj-acq", "zj-old", "zj-moved", "zj-promo", "zj-demoted", "zj-same")


def _company(n: int, company_id: str, founded_on: str, region_code: str = "330106") -> dict[str, Any]:
    return {
        "id": company_id,
        "name": f"浙江测试{n}号科技有限公司",
        "uscc": uscc.build("330106", f"MA2TQ{n:03d}"),
        "founded_on": founded_on,
        "country": "CN",
        "region_code": region_code,
        "tracks": "人工智能",
    }


FOUNDED = {
    "zj-new": "2021-01-01",
    "zj-ipo": "2018-01-01",
    "zj-acq": "2018-01-01",
    "zj-old": "2014-09-01",  # 9.8 years old in June 2024, 10.8 in June 2025
    "zj-moved": "2019-01-01",
    "zj-promo": "2021-01-01",
    "zj-demoted": "2021-01-01",
    "zj-same": "2019-01-01",
}


def _valuation(company_id: str, as_of: str, usd: int) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "as_of": as_of,
        "value": str(usd),
        "currency": "USD",
        "evidence": "disclosed",
        "source": "test",
    }


def _first_package(folder: Path) -> Path:
    return write_package(
        folder,
        companies=[_company(n, cid, FOUNDED[cid]) for n, cid in enumerate(_IDS, start=1)],
        rounds=[
            {
                "company_id": cid,
                "announced_on": "2021-06-01",
                "round_type": "series-a",
                "amount": "100000000",
                "currency": "CNY",
            }
            for cid in _IDS
        ],
        valuations=[
            _valuation("zj-ipo", "2023-06-01", 2_000_000_000),
            _valuation("zj-acq", "2023-06-01", 1_500_000_000),
            _valuation("zj-old", "2023-06-01", 1_500_000_000),
            _valuation("zj-moved", "2023-06-01", 1_500_000_000),
            _valuation("zj-promo", "2023-06-01", 300_000_000),
            _valuation("zj-demoted", "2023-06-01", 1_500_000_000),
            _valuation("zj-same", "2023-06-01", 1_500_000_000),
        ],
    )


def _second_package(folder: Path) -> Path:
    return write_package(
        folder,
        companies=[_company(5, "zj-moved", FOUNDED["zj-moved"], region_code="440305")],
        valuations=[
            _valuation("zj-new", "2025-01-15", 1_200_000_000),
            _valuation("zj-promo", "2025-02-01", 1_100_000_000),
            _valuation("zj-demoted", "2025-01-20", 400_000_000),
        ],
        lifecycle_events=[
            {"company_id": "zj-ipo", "kind": "ipo", "occurred_on": "2025-03-01", "detail": "上交所科创板"},
            {
                "company_id": "zj-moved",
                "kind": "relocation",
                "occurred_on": "2025-04-01",
                "from_region_code": "330106",
                "to_region_code": "440305",
            },
        ],
        acquisitions=[{"company_id": "zj-acq", "acquired_on": "2025-02-01", "acquirer_name": "某集团"}],
    )


EXPECTED_CHANGES = {
    "zj-new": ("new_entry", "none", "unicorn"),
    "zj-ipo": ("graduated_ipo", "unicorn", "none"),
    "zj-acq": ("acquired", "unicorn", "none"),
    "zj-old": ("aged_out", "unicorn", "none"),
    "zj-moved": ("moved_out", "unicorn", "none"),
    "zj-promo": ("promotion", "potential_unicorn", "unicorn"),
    "zj-demoted": ("demotion", "unicorn", "potential_unicorn"),
}
EXIT_REASONS = {"zj-ipo": "listed", "zj-acq": "acquired", "zj-old": "too_old", "zj-moved": "not_in_province"}


def test_diff_between_snapshots_reports_every_kind_of_change(
    engine: Engine, frozen_today: str, tmp_path: Path
) -> None:
    _ok(qilin_import(_first_package(tmp_path / "first")))
    first = {
        r["company_id"]: r["tier"]
        for r in _csv(_ok(cli("tiers", "evaluate", "--as-of", BEFORE, "--format", "csv")))
    }
    assert first == {
        "zj-new": "none",
        "zj-ipo": "unicorn",
        "zj-acq": "unicorn",
        "zj-old": "unicorn",
        "zj-moved": "unicorn",
        "zj-promo": "potential_unicorn",
        "zj-demoted": "unicorn",
        "zj-same": "unicorn",
    }
    _ok(cli("tiers", "snapshot", "--as-of", BEFORE))

    _ok(qilin_import(_second_package(tmp_path / "second")))
    # Everything imported is dated after the first snapshot: evaluated again as of that date, nothing moves
    # (the relocation takes the registered region back to Zhejiang).
    again = {
        r["company_id"]: r["tier"]
        for r in _csv(_ok(cli("tiers", "evaluate", "--as-of", BEFORE, "--format", "csv")))
    }
    assert again == first
    _ok(cli("tiers", "snapshot", "--as-of", AFTER))
    with engine.connect() as conn:
        regions = conn.execute(
            select(TierSnapshot.as_of, TierSnapshotEntry.region_code)
            .join(TierSnapshot, TierSnapshot.id == TierSnapshotEntry.snapshot_id)
            .where(TierSnapshotEntry.enterprise_id == "zj-moved")
            .order_by(TierSnapshot.as_of)
        ).all()
    assert [(d.isoformat(), code) for d, code in regions] == [(BEFORE, "330106"), (AFTER, "440305")]

    changes = json.loads(_ok(cli("tiers", "diff", "--from", BEFORE, "--to", AFTER, "--format", "json")))
    by_id = {c["company_id"]: c for c in changes}
    assert set(by_id) == set(EXPECTED_CHANGES)  # zj-same stays a unicorn
    for company_id, (change, from_tier, to_tier) in EXPECTED_CHANGES.items():
        found = by_id[company_id]
        assert (found["change"], found["from_tier"], found["to_tier"]) == (change, from_tier, to_tier), found
    for company_id, reason in EXIT_REASONS.items():
        assert reason in by_id[company_id]["reasons"], by_id[company_id]

    rows = _csv(_ok(cli("tiers", "diff", "--from", BEFORE, "--to", AFTER, "--format", "csv")))
    assert {r["company_id"]: r["change"] for r in rows} == {k: v[0] for k, v in EXPECTED_CHANGES.items()}
    assert "listed" in next(r for r in rows if r["company_id"] == "zj-ipo")["reasons"].split(";")

    table = _ok(cli("tiers", "diff", "--from", BEFORE, "--to", AFTER))
    lines = {cid: next(line for line in table.splitlines() if cid in line) for cid in EXPECTED_CHANGES}
    words = {
        "zj-new": ("新入库",),
        "zj-ipo": ("上市毕业", "已上市"),
        "zj-acq": ("被收购出库", "已被收购"),
        "zj-old": ("超龄出库", "超龄"),
        "zj-moved": ("迁出本省", "非本省注册"),
        "zj-promo": ("升级",),
        "zj-demoted": ("降级",),
    }
    for company_id, expected in words.items():
        for word in expected:
            assert word in lines[company_id], lines[company_id]

    _fails_cleanly(cli("tiers", "diff", "--from", BEFORE, "--to", "2025-12-31"), "2025-12-31")


def test_the_tier_page_lists_the_changes_grouped_by_kind(
    engine: Engine, frozen_today: str, tmp_path: Path
) -> None:
    """The 梯度培育库 page's 动态管理 list: grouped by kind of change, in the order of its counts."""
    _ok(qilin_import(_first_package(tmp_path / "first")))
    _ok(cli("tiers", "snapshot", "--as-of", BEFORE))
    _ok(qilin_import(_second_package(tmp_path / "second")))
    _ok(cli("tiers", "snapshot", "--as-of", AFTER))
    admin = Principal(user_id=1, username="admin", role=Role.province_admin)
    with Session(engine) as session:
        context = views.tiers_context(session, admin, from_date=BEFORE, to_date=AFTER, change=None, page=1)
    listed = [(row["change_code"], row["id"]) for row in context["diff"]["rows"]]
    assert sorted(listed) != listed  # the ids alone would order them otherwise
    assert listed == sorted(listed, key=lambda r: (views.CHANGES.index(r[0]), r[1]))
    assert {code for code, _ in listed} == {v[0] for v in EXPECTED_CHANGES.values()}


def test_the_server_makes_the_tier_pages_diff_at_start_up(
    engine: Engine, db_url: str, frozen_today: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server (not under test settings) makes the diff the 梯度培育库 page shows first as it starts, in the
    background; the page's first view then uses it."""
    _ok(qilin_import(_first_package(tmp_path / "first")))
    _ok(cli("tiers", "snapshot", "--as-of", BEFORE))
    _ok(qilin_import(_second_package(tmp_path / "second")))
    _ok(cli("tiers", "snapshot", "--as-of", AFTER))
    made: list[tuple[dt.date, dt.date]] = []
    real = service._diff

    def counted(session: Session, before: TierSnapshot, after: TierSnapshot) -> list[service.DiffEntry]:
        made.append((before.as_of, after.as_of))
        return real(session, before, after)

    monkeypatch.setattr(service, "_diff", counted)
    start_up(db_url)
    assert made == [(dt.date.fromisoformat(BEFORE), dt.date.fromisoformat(AFTER))]
    admin = Principal(user_id=1, username="admin", role=Role.province_admin)
    with Session(engine) as session:
        context = views.tiers_context(session, admin, from_date=None, to_date=None, change=None, page=1)
    assert context["diff"]["total"] == len(EXPECTED_CHANGES) and len(made) == 1


def test_a_diff_is_made_once_per_pair_of_snapshots(
    engine: Engine, frozen_today: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots never change, so the diff of two is kept (the 梯队 page shows it on every view); a snapshot
    taken again under the same id (SQLite reuses the largest id once deleted) is not taken for the old one."""
    _ok(qilin_import(_first_package(tmp_path / "first")))
    _ok(cli("tiers", "snapshot", "--as-of", BEFORE))
    _ok(qilin_import(_second_package(tmp_path / "second")))
    _ok(cli("tiers", "snapshot", "--as-of", AFTER))
    made: list[tuple[int, int]] = []
    real = service._diff

    def counted(session: Session, before: TierSnapshot, after: TierSnapshot) -> list[service.DiffEntry]:
        made.append((before.id, after.id))
        return real(session, before, after)

    monkeypatch.setattr(service, "_diff", counted)
    with Session(engine) as session:
        before, after = session.scalars(select(TierSnapshot).order_by(TierSnapshot.as_of)).all()
        first = service.diff_snapshots(session, before=before, after=after)
        assert {e.enterprise_id: e.change for e in first} == {k: v[0] for k, v in EXPECTED_CHANGES.items()}
        assert service.diff_snapshots(session, before=before, after=after) == first
        assert made == [(before.id, after.id)]
        backwards = service.diff_snapshots(session, before=after, after=before)
        assert made[-1] == (after.id, before.id)
        assert {e.enterprise_id for e in backwards} == {e.enterprise_id for e in first}
        retaken = TierSnapshot(
            id=after.id, standard_id=after.standard_id, as_of=after.as_of,
            taken_at=after.taken_at + dt.timedelta(seconds=1),
        )  # fmt: skip
        assert service.diff_snapshots(session, before=before, after=retaken) == first
        assert made[-1] == (before.id, after.id) and len(made) == 3
    if engine.dialect.name != "sqlite":
        return
    # On SQLite (no trigger on deletes there) the later snapshot deleted and taken again: same id, new diff.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM tier_snapshot_entries WHERE snapshot_id = :id"), {"id": after.id})
        conn.execute(text("DELETE FROM tier_snapshots WHERE id = :id"), {"id": after.id})
    _ok(qilin_import(_first_package(tmp_path / "first")))  # zj-moved registered in Zhejiang again
    _ok(cli("tiers", "snapshot", "--as-of", AFTER))
    with Session(engine) as session:
        before, again = session.scalars(select(TierSnapshot).order_by(TierSnapshot.as_of)).all()
        assert again.id == after.id
        assert service.diff_snapshots(session, before=before, after=again) == [
            e for e in first if e.enterprise_id != "zj-moved"
        ]
        assert len(made) == 4
