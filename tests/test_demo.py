"""The demo database: real Zhejiang unicorns plus a synthetic cohort, loaded through the real importer."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from qilin.cli import app
from qilin.demo.service import build_demo
from qilin.registry.exporter import export_package
from qilin.registry.importer import import_package
from qilin.registry.models import Enterprise, FundingRound, LifecycleEvent, OperatingReport, Valuation
from qilin.registry.service import registry_summary


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


def test_run_loads_demo_once_and_prints_summary(db_url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["run", "--no-serve", "--enterprises", "200"])
    assert first.exit_code == 0, first.output
    assert "首次运行" in first.output and "杭州市" in first.output and "模拟" in first.output
    assert "演示账户" in first.output and "county_officer" in first.output
    second = runner.invoke(app, ["run", "--no-serve", "--enterprises", "200"])
    assert second.exit_code == 0, second.output
    assert "首次运行：" not in second.output and "演示账户已存在" in second.output
    refused = runner.invoke(app, ["demo", "--enterprises", "10"])
    assert refused.exit_code == 1
    assert "--force" in refused.output
