"""The demo database: real Zhejiang unicorns plus a synthetic cohort, loaded through the real importer."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from qilin.auth.models import User
from qilin.auth.roles import Role
from qilin.auth.scope import Principal, lead_filter
from qilin.cli import app
from qilin.demo.generate import DEFAULT_AS_OF
from qilin.demo.leads import AI_TOP, DEMO_FUND_ASSOCIATION, DEMO_RECOMMENDERS, build_demo_leads
from qilin.demo.service import (
    DEFAULT_SEED,
    MIN_RUN_ENTERPRISES,
    build_demo,
    build_platform_views,
    demo_snapshot_dates,
)
from qilin.discovery.data import DiscoveryError
from qilin.discovery.leads import recommender_report
from qilin.discovery.leads_models import Lead, LeadTransition
from qilin.discovery.runs_models import DiscoveryRun, DiscoveryScore
from qilin.registry.exporter import export_package
from qilin.registry.importer import import_package
from qilin.registry.models import (
    Enterprise,
    EnterpriseTrack,
    FundingRound,
    LifecycleEvent,
    OperatingReport,
    Valuation,
)
from qilin.registry.service import registry_summary
from qilin.tiers.models import TierSnapshot


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_demo_marks_synthetic_records_and_keeps_real_ones(session: Session) -> None:
    build_demo(session, enterprises=400, seed=3)
    session.commit()
    real = session.scalars(select(Enterprise).where(Enterprise.is_synthetic.is_(False))).all()
    assert len(real) == 19
    assert all(e.source and "CB Insights" in e.source for e in real)
    assert session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.is_synthetic)) == 400
    # Every record of a synthetic enterprise is itself marked synthetic.
    for model in (FundingRound, Valuation, OperatingReport, LifecycleEvent):
        rows = session.execute(
            select(model.is_synthetic, Enterprise.is_synthetic).join(
                Enterprise, Enterprise.id == model.enterprise_id
            )
        ).all()
        assert rows, model.__name__
        assert all(own == parent for own, parent in rows if parent), model.__name__
    # Real unicorns carry their list entry and a third-party-list valuation in USD.
    entries = session.scalar(
        select(func.count())
        .select_from(LifecycleEvent)
        .join(Enterprise, Enterprise.id == LifecycleEvent.enterprise_id)
        .where(LifecycleEvent.kind == "unicorn_list_entry", Enterprise.is_synthetic.is_(False))
    )
    assert entries == 19
    summary = registry_summary(session)
    assert summary.enterprises == 419 and summary.synthetic == 400
    assert len([row for row in summary.by_city if row.label.endswith("市")]) == 11


def test_demo_leads_go_through_the_import_and_the_workflow_and_are_marked_synthetic(session: Session) -> None:
    today = dt.date(2026, 11, 28)
    build_demo(session, enterprises=600, seed=DEFAULT_SEED)
    heard: list[tuple[str, int | None] | int] = []

    class Recorder:  # the progress bar of `qilin run` hears each snapshot and the discovery run
        def stage(self, name: str, total: int | None) -> None:
            heard.append((name, total))

        def advance(self, n: int = 1) -> None:
            heard.append(n)

    taken, _ = build_platform_views(session, today=today, progress=Recorder())
    assert taken == len(demo_snapshot_dates(today)) == 9  # 30 June 2019 … 2026, today
    assert heard == [("snapshots", 9), *[1] * 9, ("discovery", 1), 1]
    made = build_demo_leads(session, today=today, seed=DEFAULT_SEED)
    session.commit()
    rows = session.scalars(select(Lead)).all()
    ai = [lead for lead in rows if lead.channel == "ai_discovery"]
    assert made == len(rows) == sum(known + unknown for *_, known, unknown in DEMO_RECOMMENDERS) + len(ai)
    assert 0 < len(ai) <= AI_TOP
    assert all(lead.is_synthetic and lead.note and "模拟数据" in lead.note for lead in rows)
    assert all(lead.submitted_on <= today for lead in rows)
    # a lead carries its firm's tracks (赛道): a registry firm's own, a made-up firm's from its trade
    tracked = select(EnterpriseTrack.enterprise_id, EnterpriseTrack.track_code)
    tracks_of: dict[str, set[str]] = {}
    for eid, code in session.execute(tracked).tuples():
        tracks_of.setdefault(eid, set()).add(code)
    for lead in rows:
        expected = tracks_of.get(lead.matched_enterprise_id or "", set())
        assert set(lead.tracks) == expected if lead.matched_enterprise_id else len(lead.tracks) == 1, (
            lead.name
        )
    assert sum(bool(lead.tracks) for lead in rows) > len(rows) // 2
    assert {lead.channel for lead in rows} == {channel for channel, *_ in DEMO_RECOMMENDERS} | {
        "ai_discovery"
    }
    synthetic = set(session.scalars(select(Enterprise.id).where(Enterprise.is_synthetic)))
    accepted = [lead for lead in rows if lead.status == "accepted"]
    assert accepted and all(lead.enterprise_id in synthetic for lead in accepted)
    assert all(lead.enterprise_id == lead.matched_enterprise_id for lead in accepted)  # by USCC, the import's
    assert all(lead.rejection_reason for lead in rows if lead.status == "rejected")
    assert {lead.status for lead in rows} == {"new", "verifying", "accepted", "rejected"}
    # each move is in the log, and the AI channel puts forward the discovery run's best-ranked firms
    assert session.scalar(select(func.count()).select_from(LeadTransition)) >= 2 * len(accepted)
    run = session.scalar(select(DiscoveryRun.id))
    pushed = [lead.matched_enterprise_id for lead in ai]
    scores = select(DiscoveryScore.enterprise_id, DiscoveryScore.rank).where(DiscoveryScore.run_id == run)
    ranks = {eid: rank for eid, rank in session.execute(scores).tuples()}
    assert all(ranks[eid] <= AI_TOP for eid in pushed), [ranks[eid] for eid in pushed]
    # the hit rates have something to count, and the demo recommender account sees its institution's leads
    report = {r.name: r for r in recommender_report(session)}
    assert sum(r.entered_tier for r in report.values()) > 0
    own = Principal(6, "recommender", Role.recommender, organization=DEMO_FUND_ASSOCIATION)
    seen = session.scalars(select(Lead).where(lead_filter(own))).all()
    assert seen and len(seen) == report[DEMO_FUND_ASSOCIATION].leads
    assert build_demo_leads(session, today=today, seed=DEFAULT_SEED) == 0  # once only


def test_demo_round_trip_is_identical(session: Session, engine: object, tmp_path: Path) -> None:
    build_demo(session, enterprises=300, seed=11)
    session.commit()
    first = tmp_path / "first"
    export_package(session, out_dir=first)
    for table in reversed(Enterprise.metadata.sorted_tables):
        if table.name != "audit_log":  # append-only (PostgreSQL refuses deletes)
            session.execute(table.delete())
    session.commit()
    report = import_package(session, paths=[first])
    assert not report.issues
    session.commit()
    second = tmp_path / "second"
    export_package(session, out_dir=second)
    assert _files(first) == _files(second)
    assert b"1" in _files(first)["rounds.csv"]


def test_run_loads_demo_once_and_prints_summary(
    db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QILIN_TODAY", "2026-09-30")  # the demo's history runs to the day of the first run
    runner = CliRunner()
    first = runner.invoke(app, ["run", "--no-serve", "--enterprises", "200"])
    assert first.exit_code == 0, first.output
    assert "首次运行" in first.output and "杭州市" in first.output and "模拟" in first.output
    assert "演示账户" in first.output and "county_officer" in first.output
    assert re.search(r"演示线索 \d+ 条", first.output), first.output
    with engine.connect() as conn:
        latest = conn.scalar(select(func.max(FundingRound.announced_on)).where(FundingRound.is_synthetic))
    assert latest is not None and DEFAULT_AS_OF < latest <= dt.date(2026, 9, 30), latest
    second = runner.invoke(app, ["run", "--no-serve", "--enterprises", "200"])
    assert second.exit_code == 0, second.output
    assert "首次运行：" not in second.output and "演示账户已存在" in second.output
    refused = runner.invoke(app, ["demo", "--enterprises", "10"])
    assert refused.exit_code == 1
    assert "--force" in refused.output


def _rows(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model)) or 0


def test_run_is_all_or_nothing_and_a_rerun_builds_everything(
    db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run whose discovery run fails keeps nothing: the next run starts again and builds the demo,
    the tier snapshots and the discovery run (it once kept the enterprises and then never built the rest)."""

    def fail(session: Session, *, today: dt.date, progress: object) -> tuple[int, int]:
        raise DiscoveryError("data.no_rounds")

    runner = CliRunner()
    args = ["run", "--no-serve", "--enterprises", str(MIN_RUN_ENTERPRISES)]
    with monkeypatch.context() as patch:  # only this: the fixtures' database settings stay
        patch.setattr("qilin.demo.service.build_platform_views", fail)
        failed = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert failed.exit_code == 1, failed.output
    assert isinstance(failed.exception, SystemExit), repr(failed.exception)
    assert "演示数据未能建立，数据库未作任何更改" in failed.output and "no funding round" in failed.output
    assert [_rows(engine, m) for m in (Enterprise, User, TierSnapshot, DiscoveryRun)] == [0, 0, 0, 0]

    again = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert again.exit_code == 0, again.output
    assert "首次运行" in again.output and "演示账户" in again.output
    assert _rows(engine, Enterprise) > MIN_RUN_ENTERPRISES
    assert _rows(engine, TierSnapshot) > 0 and _rows(engine, DiscoveryRun) == 1


@pytest.mark.parametrize("enterprises", ["0", str(MIN_RUN_ENTERPRISES - 1), "1000001"])
def test_run_refuses_a_cohort_that_cannot_make_a_working_demo(
    enterprises: str, db_url: str, engine: Engine
) -> None:
    result = CliRunner().invoke(
        app, ["run", "--no-serve", "--enterprises", enterprises], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    low = MIN_RUN_ENTERPRISES
    assert f"--enterprises 应在 {low} 至 1,000,000 之间（收到 {enterprises}）" in result.output
    assert f"--enterprises must be from {low} to 1,000,000 (got {enterprises})" in result.output
    assert [_rows(engine, m) for m in (Enterprise, User)] == [0, 0]


def test_run_on_a_registry_without_snapshots_says_how_to_build_them(db_url: str, engine: Engine) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--enterprises", "20"]).exit_code == 0
    result = runner.invoke(app, ["run", "--no-serve"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "qilin tiers snapshot" in result.output
    assert "the cockpit and the watch-list are empty" in result.output
