"""Discovery on the registry (企业库): ``package_from_db`` gives data.py's frames, ``discover rank --db``
ranks only operating non-unicorn enterprises, ``discover run`` keeps scores as history and refuses a second
identical run; ``--db`` and ``--data`` are exclusive. Both backends."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from conftest import BACKTEST_DIR
from factories import USCC_WESTLAKE
from qilin.cli import app
from qilin.demo.service import build_demo
from qilin.discovery.ai_leads import push_watch_list
from qilin.discovery.data import read_package
from qilin.discovery.features import FEATURES, build_features
from qilin.discovery.leads_models import Lead, Recommender
from qilin.discovery.model import DEFAULT_MODEL_PATH, load_model
from qilin.discovery.registry_data import package_from_db
from qilin.discovery.runs_models import DiscoveryRun, DiscoveryScore
from qilin.registry.models import Enterprise, EnterpriseTrack, FundingRound, LifecycleEvent, StatusRecord
from qilin.tiers.models import TierSnapshotEntry
from qilin.tiers.service import take_snapshot

runner = CliRunner()
AS_OF = "2025-06-30"
DAY = dt.date.fromisoformat(AS_OF)


@pytest.fixture
def demo(session: Session) -> Session:
    build_demo(session, enterprises=300, seed=3)
    session.commit()
    return session


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["discover", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_package_from_db_has_the_data_package_schema(demo: Session) -> None:
    package = package_from_db(demo)
    reference = read_package(BACKTEST_DIR)  # what data.py gives: the shared columns must have its dtypes
    for name in ("companies", "rounds", "acquisitions", "unicorn_events", "valuations", "lifecycle_events"):
        ours, theirs = getattr(package, name), getattr(reference, name)
        shared = [c for c in theirs.columns if c in ours.columns]
        assert {c: ours.schema[c] for c in shared} == {c: theirs.schema[c] for c in shared}, name
    assert {"company_id", "founded_on", "status", "status_as_of", "region_code", "category"} <= set(
        package.companies.columns
    )
    assert {"company_id", "announced_on", "round_type", "amount", "currency"} <= set(package.rounds.columns)
    assert {"company_id", "kind", "occurred_on"} <= set(package.lifecycle_events.columns)
    assert {"company_id", "joined_on"} <= set(package.unicorn_events.columns)
    assert package.companies.height == demo.scalar(select(func.count()).select_from(Enterprise))
    assert package.rounds.height == demo.scalar(select(func.count()).select_from(FundingRound))
    assert package.unicorn_events.height > 0
    assert len(package.fingerprint) == 64

    features = build_features(package, DAY)
    assert features.columns == ["company_id", *FEATURES]
    assert features.height > 0


def test_package_amounts_follow_data_py(demo: Session) -> None:
    package = package_from_db(demo)
    stored = demo.execute(
        select(
            FundingRound.enterprise_id,
            FundingRound.announced_on,
            FundingRound.round_type,
            FundingRound.amount,
            FundingRound.amount_low,
            FundingRound.amount_high,
        )
    ).all()
    vague = [r for r in stored if r.amount is None and r.amount_low is not None]
    exact = [r for r in stored if r.amount is not None]
    assert vague and exact
    rounds = package.rounds
    for row in [*vague[:5], *exact[:5]]:
        if row.amount is not None:
            expected = float(row.amount)
        elif row.amount_high is None:
            expected = float(row.amount_low)
        else:
            expected = float((row.amount_low + row.amount_high) / Decimal(2))
        amounts = rounds.filter(
            (pl.col("company_id") == row.enterprise_id)
            & (pl.col("announced_on") == row.announced_on)
            & (pl.col("round_type") == row.round_type)
        )["amount"].to_list()
        assert any(a is not None and abs(a - expected) < 0.005 for a in amounts), (row, amounts)


def _not_eligible(session: Session, day: dt.date) -> set[str]:
    """Enterprises exited or listed as unicorns on or before ``day``, computed here from the tables."""
    events = session.scalars(
        select(LifecycleEvent.enterprise_id).where(
            LifecycleEvent.occurred_on <= day,
            LifecycleEvent.kind.in_(("ipo", "acquisition", "closure", "unicorn_list_entry")),
        )
    )
    statuses = session.scalars(
        select(StatusRecord.enterprise_id).where(
            StatusRecord.as_of <= day, StatusRecord.status != "operating"
        )
    )
    listed = session.scalars(
        select(FundingRound.enterprise_id).where(
            FundingRound.announced_on <= day, FundingRound.round_type.in_(("ipo", "post-ipo"))
        )
    )
    return set(events) | set(statuses) | set(listed)


def test_rank_db_writes_only_operating_non_unicorns(demo: Session, tmp_path: Path) -> None:
    out = tmp_path / "ranking.csv"
    code, _, err = invoke("rank", "--db", "--as-of", AS_OF, "--out", str(out))
    assert code == 0, err
    with out.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    assert header == ["company_id", "score", "rank", "reasons"]
    ids = {r[0] for r in rows}
    excluded = _not_eligible(demo, DAY)
    assert rows and excluded
    assert not ids & excluded
    assert ids <= set(demo.scalars(select(Enterprise.id)))
    assert sorted(int(r[2]) for r in rows) == list(range(1, len(rows) + 1))
    assert all(0.0 <= float(r[1]) <= 1.0 and r[3] for r in rows)


def test_run_stores_scores_and_refuses_a_second_identical_run(demo: Session) -> None:
    code, out, err = invoke("run", "--as-of", AS_OF)
    assert code == 0, err
    assert "run 1" in out
    runs = list(demo.scalars(select(DiscoveryRun)))
    assert len(runs) == 1
    run = runs[0]
    assert run.as_of == DAY and run.enterprises > 0 and "+sha256:" in run.model_version
    scores = list(demo.scalars(select(DiscoveryScore).where(DiscoveryScore.run_id == run.id)))
    assert len(scores) == run.enterprises
    assert sorted(s.rank for s in scores) == list(range(1, run.enterprises + 1))
    assert not {s.enterprise_id for s in scores} & _not_eligible(demo, DAY)
    assert all(s.reasons["zh"] and s.reasons["en"] for s in scores)
    _, metadata = load_model(DEFAULT_MODEL_PATH)
    assert run.backtest == metadata["backtest"] and run.backtest["scorers"]["raised_2y"]

    # each enterprise's place in the simple rankings, recomputed here from the features of the scored set
    features = build_features(package_from_db(demo), DAY).filter(
        pl.col("company_id").is_in([s.enterprise_id for s in scores])
    )
    for column, feature in {
        "rank_total_raised": "total_raised_usd",
        "rank_raised_2y": "raised_2y_usd",
    }.items():
        amounts = dict(zip(features["company_id"], features[feature], strict=True))
        known = [a for a in amounts.values() if a is not None]
        assert len(known) > 10, feature
        for s in scores:
            amount = amounts[s.enterprise_id]
            expected = None if amount is None else 1 + sum(a > amount for a in known)
            assert getattr(s, column) == expected, (column, s.enterprise_id, amount)

    code, _, err = invoke("run", "--as-of", AS_OF)
    assert code == 1
    assert "runs are history" in err and "运行记录不可覆盖" in err
    demo.expire_all()
    assert demo.scalar(select(func.count()).select_from(DiscoveryRun)) == 1
    assert demo.scalar(select(func.count()).select_from(DiscoveryScore)) == run.enterprises

    code, _, err = invoke("run", "--as-of", "2024-06-30")  # another date is another run
    assert code == 0, err
    code, out, _ = invoke("runs")
    assert code == 0
    assert "2025-06-30" in out and "2024-06-30" in out


def test_the_watch_list_goes_forward_as_ai_discovery_leads_once(demo: Session) -> None:
    code, _, err = invoke("leads", "--top", "5")
    assert code == 1 and "尚无发现运行记录" in err  # nothing to push before a run
    assert invoke("run", "--as-of", AS_OF)[0] == 0
    snapshot = take_snapshot(demo, as_of=DAY, taken_by="test")  # some of the best are tiered already
    demo.commit()
    run = demo.scalars(select(DiscoveryRun)).one()
    best = demo.execute(
        select(DiscoveryScore.enterprise_id, DiscoveryScore.rank)
        .where(DiscoveryScore.run_id == run.id)
        .order_by(DiscoveryScore.rank)
        .limit(40)
    ).all()
    entries = select(TierSnapshotEntry.enterprise_id, TierSnapshotEntry.tier).where(
        TierSnapshotEntry.snapshot_id == snapshot.id
    )
    tiers = {eid: tier for eid, tier in demo.execute(entries).tuples()}
    untiered = [eid for eid, _ in best if tiers.get(eid, "none") == "none"]
    assert 0 < len(untiered) < 40, len(untiered)  # both kinds among the 40, so the skip is tested

    code, out, err = invoke("leads", "--top", "40")
    assert code == 0, err
    assert f"新推送线索 {len(untiered)} 条" in out and f"已在梯度培育库 {40 - len(untiered)} 家" in out
    leads = demo.scalars(select(Lead).order_by(Lead.id)).all()
    assert [lead.matched_enterprise_id or lead.name for lead in leads] == [
        eid if demo.get_one(Enterprise, eid).uscc else demo.get_one(Enterprise, eid).name for eid in untiered
    ]
    assert all(lead.channel == "ai_discovery" and lead.submitted_on == DAY for lead in leads)
    assert all(lead.note and lead.note.startswith(f"AI 发现：运行 {run.id}") for lead in leads)
    recommender = demo.get_one(Recommender, leads[0].recommender_id)
    assert (recommender.name, recommender.kind) == ("麒麟智能发现", "platform")

    code, out, _ = invoke("leads", "--top", "40")  # the same run again: nothing new
    assert code == 0 and "新推送线索 0 条" in out and f"此前已推送 {len(untiered)} 条" in out
    demo.expire_all()
    assert demo.scalar(select(func.count()).select_from(Lead)) == len(untiered)
    for bad, needle in ((["--top", "0"], "--top"), (["--run", "99"], "没有编号为 99 的发现运行")):
        code, _, err = invoke("leads", *bad)
        assert code != 0 and needle in err, (bad, err)


def test_two_enterprises_of_one_name_and_no_uscc_make_one_ai_lead(session: Session) -> None:
    for eid, name, code in (("a", "同名科技有限公司", None), ("b", "同名科技有限公司", None),
                            ("c", "另一家科技有限公司", USCC_WESTLAKE)):  # fmt: skip
        session.add(Enterprise(id=eid, name=name, uscc=code, country="CN", region_code="330106"))
    session.flush()
    # the lead carries the enterprise's tracks; a code the taxonomy no longer knows is left out, not refused
    session.add_all([EnterpriseTrack(enterprise_id="c", track_code=code) for code in ("ai", "retired-track")])
    run = DiscoveryRun(as_of=DAY, model_version="test", enterprises=3)
    session.add(run)
    session.flush()
    for rank, eid in enumerate("abc", start=1):
        session.add(DiscoveryScore(run_id=run.id, enterprise_id=eid, score=1 / rank, rank=rank, reasons={}))
    session.commit()
    pushed = push_watch_list(session, top=3, actor="test")
    assert [(e, rank) for _, e, rank in pushed.added] == [("a", 1), ("c", 3)]  # the better-ranked of the two
    session.commit()
    assert [session.get_one(Lead, lead_id).tracks for lead_id, _, _ in pushed.added] == [[], ["ai"]]
    assert session.scalar(select(func.count()).select_from(Lead)) == 2


def test_runs_without_any_run(db_url: str) -> None:
    code, out, _ = invoke("runs")
    assert code == 0
    assert "no discovery runs yet" in out


@pytest.mark.parametrize("command", ["train", "rank", "backtest"])
def test_db_and_data_are_exclusive(db_url: str, tmp_path: Path, command: str) -> None:
    extra = {
        "train": ["--horizon-years", "5", "--out", str(tmp_path / "m.json")],
        "rank": ["--out", str(tmp_path / "r.csv")],
        "backtest": ["--horizon-years", "5"],
    }[command]
    code, _, err = invoke(command, "--db", "--data", str(BACKTEST_DIR), "--as-of", AS_OF, *extra)
    assert code == 1
    assert "cannot be used together" in err and "不能同时使用" in err
    code, _, err = invoke(command, "--as-of", AS_OF, *extra)
    assert code == 1
    assert "exactly one" in err and "二者选一" in err


def test_commands_on_a_database_not_yet_migrated_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by fuzzing: ``run``, ``runs`` and ``--db`` on a new database ended in SQLAlchemy's traceback."""
    from qilin import config

    monkeypatch.setenv("QILIN_DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    monkeypatch.setenv("QILIN_ENV", "test")
    config.get_settings.cache_clear()
    try:
        for args in (
            ["run", "--as-of", AS_OF],
            ["runs"],
            ["rank", "--db", "--as-of", AS_OF, "--out", str(tmp_path / "r.csv")],
        ):
            code, _, err = invoke(*args)
            assert code == 2, err
            assert "qilin db upgrade" in err and "数据库尚未初始化" in err
    finally:
        config.get_settings.cache_clear()


def test_a_run_refuses_what_it_could_not_keep(demo: Session, tmp_path: Path) -> None:
    """Runs are never replaced: ``--top 0`` stored "无突出信号" for every enterprise for good, and a model
    whose training date was 200 characters (part of the run's model version) broke PostgreSQL's column."""
    code, _, err = invoke("run", "--as-of", AS_OF, "--top", "0")
    assert code == 2 and "--top" in err
    content = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    content["metadata"]["training_as_of"] = "2013-10-01" + "x" * 190
    model = tmp_path / "model.json"
    model.write_text(json.dumps(content), encoding="utf-8")
    code, _, err = invoke("run", "--as-of", AS_OF, "--model", str(model))
    assert code == 1 and "training_as_of" in err and "Traceback" not in err
    assert demo.scalar(select(func.count()).select_from(DiscoveryRun)) == 0
