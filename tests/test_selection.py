"""The yearly selection workflow (年度遴选): its transition table, the log, objections during public notice,
publication rules, list changes and removal for false data — on SQLite and PostgreSQL, service and CLI."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from factories import cli
from qilin.demo.service import build_demo
from qilin.tiers import selection
from qilin.tiers.models import TierSnapshot, TierSnapshotEntry
from qilin.tiers.selection import RETURNS, STATES, TRANSITIONS, SelectionError
from qilin.tiers.selection_models import Selection, SelectionEntry
from qilin.tiers.service import take_snapshot

YEAR = 2025
AS_OF = dt.date(2025, 6, 30)
STANDARD = "zhejiang-2024"
D = dt.date.fromisoformat


@pytest.fixture
def snapshot(session: Session) -> TierSnapshot:
    """A small demo registry and its snapshot as of 2025-06-30, with several enterprises in a tier."""
    build_demo(session, enterprises=200, seed=4)
    session.commit()
    taken = take_snapshot(session, as_of=AS_OF, standard_id=STANDARD, taken_by="test")
    session.commit()
    assert sum(n for tier, n in taken.counts.items() if tier != "none") >= 3
    return taken


def tiered(session: Session, snapshot: TierSnapshot) -> dict[str, str]:
    rows = session.execute(
        select(TierSnapshotEntry.enterprise_id, TierSnapshotEntry.tier).where(
            TierSnapshotEntry.snapshot_id == snapshot.id, TierSnapshotEntry.tier != "none"
        )
    )
    return dict(rows.tuples().all())


def set_today(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv("QILIN_TODAY", day)


def to_notice(session: Session, start: str = "2026-06-25", end: str = "2026-07-05") -> None:
    """Walk a fresh draft to public notice."""
    selection.advance(session, year=YEAR, to_state="city_review", actor="杭州市经信局")
    selection.advance(session, year=YEAR, to_state="provincial_review", actor="杭州市经信局")
    selection.advance(
        session,
        year=YEAR,
        to_state="public_notice",
        actor="省经信厅",
        notice_start=D(start),
        notice_end=D(end),
    )


def test_transition_table_is_explicit_and_returns_are_the_three_send_backs() -> None:
    assert isinstance(TRANSITIONS, frozenset)
    assert all(a in STATES and b in STATES for a, b in TRANSITIONS)
    assert {
        ("city_review", "draft"),
        ("provincial_review", "draft"),
        ("public_notice", "provincial_review"),
    } == RETURNS
    assert {
        ("draft", "city_review"),
        ("city_review", "provincial_review"),
        ("provincial_review", "public_notice"),
        ("public_notice", "published"),
    } == TRANSITIONS - RETURNS
    assert selection.allowed_next("published") == ()
    assert selection.allowed_next("city_review") == ("draft", "provincial_review")


def test_full_path_through_every_state_is_logged(
    session: Session, snapshot: TierSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_today(monkeypatch, "2026-06-20")
    created = selection.create(session, year=YEAR, standard_id=STANDARD, as_of=AS_OF, actor="省经信厅")
    session.commit()
    assert created.state == "draft"
    entries = session.scalars(select(SelectionEntry).where(SelectionEntry.selection_id == created.id)).all()
    assert {e.enterprise_id: e.tier for e in entries} == tiered(session, snapshot)
    assert {e.status for e in entries} == {"included"}
    one = sorted(e.enterprise_id for e in entries)[0]

    steps: list[tuple[str, str, str | None]] = [
        ("city_review", "杭州市经信局", None),
        ("draft", "杭州市经信局", "材料不全，退回补充"),
        ("city_review", "杭州市经信局", "已补充"),
        ("provincial_review", "杭州市经信局", None),
        ("draft", "省经信厅", "请复核梯队认定"),
        ("city_review", "杭州市经信局", None),
        ("provincial_review", "宁波市经信局", "同意"),
    ]
    for to, actor, comment in steps:
        selection.advance(session, year=YEAR, to_state=to, actor=actor, comment=comment)
    selection.advance(
        session, year=YEAR, to_state="public_notice", actor="省经信厅",
        notice_start=D("2026-06-22"), notice_end=D("2026-06-28"),
    )  # fmt: skip
    set_today(monkeypatch, "2026-06-24")
    objection = selection.record_objection(
        session, year=YEAR, enterprise_id=one, objector="群众来信", text="估值材料存疑"
    )
    assert objection.received_on == D("2026-06-24")
    selection.resolve_objection(
        session,
        year=YEAR,
        objection_id=objection.id,
        upheld=True,
        actor="省经信厅",
        comment="经核实，需重新审核",
    )
    selection.advance(
        session, year=YEAR, to_state="provincial_review", actor="省经信厅", comment="异议成立，退回省级审核"
    )
    selection.advance(
        session, year=YEAR, to_state="public_notice", actor="省经信厅",
        notice_start=D("2026-06-25"), notice_end=D("2026-07-01"),
    )  # fmt: skip
    set_today(monkeypatch, "2026-07-02")
    last = selection.advance(session, year=YEAR, to_state="published", actor="省经信厅", comment="正式发布")
    session.commit()
    assert last.from_state == "public_notice" and last.to_state == "published"

    session.expire_all()  # read everything back from the database
    log = selection.transitions(session, year=YEAR)
    expected = [
        ("draft", "city_review", "杭州市经信局", None),
        ("city_review", "draft", "杭州市经信局", "材料不全，退回补充"),
        ("draft", "city_review", "杭州市经信局", "已补充"),
        ("city_review", "provincial_review", "杭州市经信局", None),
        ("provincial_review", "draft", "省经信厅", "请复核梯队认定"),
        ("draft", "city_review", "杭州市经信局", None),
        ("city_review", "provincial_review", "宁波市经信局", "同意"),
        ("provincial_review", "public_notice", "省经信厅", None),
        ("public_notice", "provincial_review", "省经信厅", "异议成立，退回省级审核"),
        ("provincial_review", "public_notice", "省经信厅", None),
        ("public_notice", "published", "省经信厅", "正式发布"),
    ]
    assert [(tr.from_state, tr.to_state, tr.actor, tr.comment) for tr in log] == expected
    assert {(tr.from_state, tr.to_state) for tr in log} == TRANSITIONS  # every transition was walked
    for tr in log:
        assert tr.at.tzinfo is not None and tr.at.utcoffset() == dt.timedelta(0)
    assert [tr.at for tr in log] == sorted(tr.at for tr in log)
    notices = [(tr.notice_start, tr.notice_end) for tr in log if tr.to_state == "public_notice"]
    assert notices == [(D("2026-06-22"), D("2026-06-28")), (D("2026-06-25"), D("2026-07-01"))]

    summary = selection.summarize(session, year=YEAR)
    assert summary.state == "published" and summary.allowed_next == ()
    assert (summary.notice_start, summary.notice_end) == (D("2026-06-25"), D("2026-07-01"))
    assert sum(summary.by_tier.values()) == sum(summary.by_city.values()) == len(entries)
    assert [o.resolution for o in summary.objections] == ["upheld"]
    assert summary.objections[0].resolved_by == "省经信厅"
    assert summary.objections[0].resolution_comment == "经核实，需重新审核"


def test_disallowed_transitions_are_refused_naming_the_allowed_states(
    session: Session, snapshot: TierSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_today(monkeypatch, "2026-06-30")
    selection.create(session, year=YEAR, standard_id=STANDARD, as_of=AS_OF, actor="省经信厅")
    path = ["draft", "city_review", "provincial_review", "public_notice", "published"]
    refused = 0
    for i, state in enumerate(path):
        assert selection.get(session, year=YEAR).state == state
        logged = len(selection.transitions(session, year=YEAR))
        allowed = selection.allowed_next(state)
        for target in (*STATES, "approved"):
            if (state, target) in TRANSITIONS:
                continue
            with pytest.raises(SelectionError) as exc:
                selection.advance(
                    session, year=YEAR, to_state=target, actor="省经信厅", comment="试一试",
                    notice_start=D("2026-06-01"), notice_end=D("2026-06-10"),
                )  # fmt: skip
            refused += 1
            assert exc.value.key == "selection.transition_refused"
            zh, en = str(exc.value).split(" / ")  # Chinese, then English
            assert f"当前状态为{selection.state_label(state)}" in zh
            assert f"允许的下一状态：{selection.states_text(allowed)}" in zh
            assert f"is in {selection.state_label(state, 'en')}" in en
            assert f"allowed next states: {selection.states_text(allowed, 'en')}" in en
            assert all(f"({code})" in en for code in allowed)
        if not allowed:
            assert "已发布为最终状态" in zh and "published is final" in en
        assert selection.get(session, year=YEAR).state == state
        assert len(selection.transitions(session, year=YEAR)) == logged  # nothing logged when refused
        if i + 1 < len(path):
            dates = {"notice_start": D("2026-06-30"), "notice_end": D("2026-07-06")}
            if path[i + 1] == "published":
                set_today(monkeypatch, "2026-07-07")  # the objection period is over
            selection.advance(
                session, year=YEAR, to_state=path[i + 1], actor="省经信厅",
                **(dates if path[i + 1] == "public_notice" else {}),
            )  # fmt: skip
    # 5 states × 6 targets − 7 allowed moves
    assert refused == 5 * (len(STATES) + 1) - len(TRANSITIONS)


def test_send_back_needs_a_comment_and_notice_needs_its_dates(
    session: Session, snapshot: TierSnapshot, frozen_today: str
) -> None:
    selection.create(session, year=YEAR, standard_id=STANDARD, as_of=AS_OF, actor="省经信厅")
    selection.advance(session, year=YEAR, to_state="city_review", actor="杭州市经信局")
    for comment in (None, "  "):
        with pytest.raises(SelectionError) as exc:
            selection.advance(session, year=YEAR, to_state="draft", actor="杭州市经信局", comment=comment)
        assert exc.value.key == "selection.comment_required"
    with pytest.raises(SelectionError) as exc:
        selection.advance(session, year=YEAR, to_state="draft", actor="杭州市经信局", comment="退\x1b回")
    assert exc.value.key == "field.control_char" and "U+001B" in str(exc.value)
    for blank in (" ", "\u200b"):
        with pytest.raises(SelectionError) as exc:
            selection.advance(session, year=YEAR, to_state="provincial_review", actor=blank)
        assert exc.value.key == "selection.actor_required"
    with pytest.raises(SelectionError) as exc:
        selection.advance(session, year=YEAR, to_state="provincial_review", actor="杭州\x00市")
    assert exc.value.key == "field.control_char"
    with pytest.raises(SelectionError) as exc:
        selection.advance(
            session,
            year=YEAR,
            to_state="provincial_review",
            actor="杭州市经信局",
            notice_start=D("2026-06-01"),
        )
    assert exc.value.key == "selection.notice_dates_unexpected"
    selection.advance(session, year=YEAR, to_state="provincial_review", actor="杭州市经信局")
    with pytest.raises(SelectionError) as exc:
        selection.advance(
            session, year=YEAR, to_state="public_notice", actor="省经信厅", notice_end=D("2026-07-01")
        )
    assert exc.value.key == "selection.notice_dates_required"
    with pytest.raises(SelectionError) as exc:
        selection.advance(
            session, year=YEAR, to_state="public_notice", actor="省经信厅",
            notice_start=D("2026-07-01"), notice_end=D("2026-06-25"),
        )  # fmt: skip
    assert exc.value.key == "selection.notice_dates_order"
    assert selection.get(session, year=YEAR).state == "provincial_review"


def test_publish_waits_for_the_end_of_notice_and_resolved_objections(
    session: Session, engine: Engine, snapshot: TierSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_today(monkeypatch, "2026-06-30")
    selection.create(session, year=YEAR, standard_id=STANDARD, as_of=AS_OF, actor="省经信厅")
    to_notice(session, start="2026-06-25", end="2026-07-05")
    first, second = sorted(tiered(session, snapshot))[:2]
    # the last day of the objection period is still inside it
    for day in ("2026-06-30", "2026-07-05"):
        set_today(monkeypatch, day)
        with pytest.raises(SelectionError) as exc:
            selection.advance(session, year=YEAR, to_state="published", actor="省经信厅")
        assert exc.value.key == "selection.notice_not_ended"
        assert "2026-07-05" in str(exc.value) and day in str(exc.value)

    set_today(monkeypatch, "2026-07-03")
    a = selection.record_objection(
        session, year=YEAR, enterprise_id=first, objector="张三", text="营收数据不实"
    )
    b = selection.record_objection(
        session,
        year=YEAR,
        enterprise_id=second,
        objector="李四",
        text="注册地不在本省",
        received_on=D("2026-06-26"),
    )
    # a dismissed objection does not send the list back
    selection.resolve_objection(
        session, year=YEAR, objection_id=b.id, upheld=False, actor="省经信厅", comment="查无实据"
    )
    with pytest.raises(SelectionError) as exc:
        selection.advance(session, year=YEAR, to_state="provincial_review", actor="省经信厅", comment="退回")
    assert exc.value.key == "selection.return_needs_upheld"

    set_today(monkeypatch, "2026-07-06")
    with pytest.raises(SelectionError) as exc:
        selection.advance(session, year=YEAR, to_state="published", actor="省经信厅")
    assert exc.value.key == "selection.objections_open"
    assert f"{a.id}" in str(exc.value)
    assert selection.get(session, year=YEAR).state == "public_notice"

    with pytest.raises(SelectionError) as exc:
        selection.resolve_objection(
            session, year=YEAR, objection_id=a.id, upheld=False, actor="省经信厅", comment=" "
        )
    assert exc.value.key == "selection.resolution_required"
    selection.resolve_objection(
        session, year=YEAR, objection_id=a.id, upheld=False, actor="省经信厅", comment="已核实"
    )
    with pytest.raises(SelectionError) as exc:
        selection.resolve_objection(
            session, year=YEAR, objection_id=a.id, upheld=True, actor="省经信厅", comment="改判"
        )
    assert exc.value.key == "selection.objection_resolved"
    selection.advance(session, year=YEAR, to_state="published", actor="省经信厅")
    session.commit()
    assert selection.get(session, year=YEAR).state == "published"
    session.rollback()
    with pytest.raises(DBAPIError), engine.begin() as conn:  # a resolved objection is final
        conn.execute(
            text("UPDATE selection_objections SET resolution = 'upheld' WHERE id = :id"), {"id": a.id}
        )


def test_objections_only_during_public_notice(
    session: Session, snapshot: TierSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_today(monkeypatch, "2026-06-30")
    selection.create(session, year=YEAR, standard_id=STANDARD, as_of=AS_OF, actor="省经信厅")
    company = sorted(tiered(session, snapshot))[0]

    def object_(company: str = company, received: dt.date | None = None) -> None:
        selection.record_objection(
            session, year=YEAR, enterprise_id=company, objector="张三", text="异议", received_on=received
        )

    for state in ("city_review", "provincial_review"):
        with pytest.raises(SelectionError) as exc:
            object_()
        assert exc.value.key == "selection.objection_not_in_notice"
        selection.advance(session, year=YEAR, to_state=state, actor="杭州市经信局")
    with pytest.raises(SelectionError) as exc:
        object_()
    assert exc.value.key == "selection.objection_not_in_notice"
    assert "provincial_review" in str(exc.value)

    set_today(monkeypatch, "2026-06-25")
    selection.advance(
        session, year=YEAR, to_state="public_notice", actor="省经信厅",
        notice_start=D("2026-06-25"), notice_end=D("2026-06-29"),
    )  # fmt: skip
    set_today(monkeypatch, "2026-06-30")
    with pytest.raises(SelectionError) as exc:
        object_()  # received today, after the period
    assert exc.value.key == "selection.received_outside_notice"
    with pytest.raises(SelectionError) as exc:
        object_(received=D("2026-06-24"))
    assert exc.value.key == "selection.received_outside_notice"
    with pytest.raises(SelectionError) as exc:
        object_(received=D("2026-07-01"))
    assert exc.value.key == "selection.received_in_future"
    with pytest.raises(SelectionError) as exc:
        object_(company="no-such-company", received=D("2026-06-26"))
    assert exc.value.key == "selection.entry_not_found"
    object_(received=D("2026-06-29"))
    assert [o.enterprise_id for o in selection.objections(session, year=YEAR)] == [company]
    with pytest.raises(SelectionError) as exc:
        selection.resolve_objection(
            session, year=YEAR, objection_id=999_999, upheld=True, actor="x", comment="y"
        )
    assert exc.value.key == "selection.objection_not_found"

    only = selection.objections(session, year=YEAR)[0]
    selection.resolve_objection(
        session, year=YEAR, objection_id=only.id, upheld=False, actor="省经信厅", comment="不成立"
    )
    selection.advance(session, year=YEAR, to_state="published", actor="省经信厅")
    with pytest.raises(SelectionError) as exc:
        object_(received=D("2026-06-29"))
    assert exc.value.key == "selection.objection_not_in_notice"


def test_list_changes_only_in_draft_and_city_review_then_only_false_data_removal(
    session: Session, engine: Engine, snapshot: TierSnapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_today(monkeypatch, "2026-06-30")
    created = selection.create(session, year=YEAR, standard_id=STANDARD, as_of=AS_OF, actor="省经信厅")
    first, second, third = sorted(tiered(session, snapshot))[:3]

    excluded = selection.exclude_entry(
        session, year=YEAR, enterprise_id=first, actor="杭州市经信局", reason="已迁出"
    )
    assert excluded.status == "excluded"
    with pytest.raises(SelectionError) as exc:
        selection.exclude_entry(session, year=YEAR, enterprise_id=first, actor="杭州市经信局", reason="again")
    assert exc.value.key == "selection.entry_already_excluded"
    with pytest.raises(SelectionError) as exc:
        selection.restore_entry(session, year=YEAR, enterprise_id=second, actor="杭州市经信局", reason="x")
    assert exc.value.key == "selection.entry_not_excluded"
    with pytest.raises(SelectionError) as exc:
        selection.exclude_entry(session, year=YEAR, enterprise_id=second, actor="杭州市经信局", reason="  ")
    assert exc.value.key == "selection.reason_required"
    selection.advance(session, year=YEAR, to_state="city_review", actor="杭州市经信局")
    restored = selection.restore_entry(
        session, year=YEAR, enterprise_id=first, actor="杭州市经信局", reason="迁出信息有误"
    )
    assert restored.status == "included"
    selection.exclude_entry(session, year=YEAR, enterprise_id=third, actor="杭州市经信局", reason="已被收购")
    selection.advance(session, year=YEAR, to_state="provincial_review", actor="杭州市经信局")
    with pytest.raises(SelectionError) as exc:
        selection.exclude_entry(session, year=YEAR, enterprise_id=second, actor="省经信厅", reason="x")
    assert exc.value.key == "selection.list_frozen"

    set_today(monkeypatch, "2026-06-20")
    selection.advance(
        session, year=YEAR, to_state="public_notice", actor="省经信厅",
        notice_start=D("2026-06-20"), notice_end=D("2026-06-29"),
    )  # fmt: skip
    set_today(monkeypatch, "2026-06-30")
    selection.advance(session, year=YEAR, to_state="published", actor="省经信厅")
    session.commit()

    for change in (selection.exclude_entry, selection.restore_entry):
        with pytest.raises(SelectionError) as exc:
            change(session, year=YEAR, enterprise_id=third, actor="省经信厅", reason="x")
        assert exc.value.key == "selection.list_frozen"
        assert "published" in str(exc.value)

    removed = selection.remove_for_false_data(
        session, year=YEAR, enterprise_id=second, actor="省经信厅", reason="经查提供虚假财务材料"
    )
    session.commit()
    session.expire_all()
    entry = session.get(SelectionEntry, (created.id, second))
    assert entry is removed and entry is not None  # never deleted, only marked
    assert entry.status == "removed"
    assert (entry.removed_by, entry.removed_reason) == ("省经信厅", "经查提供虚假财务材料")
    assert entry.removed_at is not None and entry.removed_at.utcoffset() == dt.timedelta(0)
    with pytest.raises(SelectionError) as exc:
        selection.remove_for_false_data(
            session, year=YEAR, enterprise_id=second, actor="省经信厅", reason="再次"
        )
    assert exc.value.key == "selection.entry_removed"

    log = [(c.enterprise_id, c.action, c.reason) for c in selection.changes(session, year=YEAR)]
    assert log == [
        (first, "exclude", "已迁出"),
        (first, "restore", "迁出信息有误"),
        (third, "exclude", "已被收购"),
        (second, "remove", "经查提供虚假财务材料"),
    ]
    summary = selection.summarize(session, year=YEAR)
    total = len(tiered(session, snapshot))
    assert summary.by_status == {"included": total - 2, "excluded": 1, "removed": 1}
    assert sum(summary.by_tier.values()) == total - 2
    shown = {e.enterprise_id: (e.status, e.reason) for e in summary.entries}
    assert shown[second] == ("removed", "经查提供虚假财务材料")
    assert shown[first] == ("included", "迁出信息有误")

    # the database itself refuses to change a published list except by removal, and to rewrite the logs
    session.rollback()  # release the session's row locks (PostgreSQL) before writing on other connections
    refused = (
        "UPDATE selection_entries SET status = 'included' WHERE enterprise_id = :id",
        "UPDATE selection_entries SET tier = 'unicorn' WHERE enterprise_id = :id",
        "UPDATE selection_entries SET removed_reason = 'edited' WHERE enterprise_id = :id",
        "UPDATE selections SET state = 'draft'",
        "UPDATE selection_transitions SET actor = 'someone else'",
        "UPDATE selection_entry_changes SET reason = 'edited'",
    )
    for statement in refused:
        target = third if "status = 'included'" in statement else second
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement), {"id": target})
    with engine.begin() as conn:  # removal is the one change a published list accepts
        conn.execute(
            text(
                "UPDATE selection_entries SET status = 'removed', removed_at = :at, removed_by = 'db', "
                "removed_reason = 'false data' WHERE enterprise_id = :id"
            ),
            {"id": first, "at": dt.datetime(2026, 7, 1, tzinfo=dt.UTC)},
        )


def test_one_selection_per_year_and_a_snapshot_is_required(
    session: Session, engine: Engine, snapshot: TierSnapshot
) -> None:
    with pytest.raises(SelectionError) as exc:
        selection.create(session, year=YEAR, standard_id=STANDARD, as_of=D("2025-01-01"), actor="省经信厅")
    assert exc.value.key == "selection.no_snapshot"
    assert "qilin tiers snapshot" in str(exc.value)
    with pytest.raises(SelectionError) as exc:
        selection.get(session, year=YEAR)
    assert exc.value.key == "selection.not_found"

    selection.create(session, year=YEAR, standard_id=STANDARD, as_of=AS_OF, actor="省经信厅")
    session.commit()
    with pytest.raises(SelectionError) as exc:
        selection.create(session, year=YEAR, standard_id=STANDARD, as_of=AS_OF, actor="省经信厅")
    assert exc.value.key == "selection.exists"
    assert "2025" in str(exc.value)
    with pytest.raises(IntegrityError), engine.begin() as conn:  # and the database agrees
        conn.execute(
            Selection.__table__.insert(),  # type: ignore[attr-defined]
            {"year": YEAR, "snapshot_id": snapshot.id, "standard_id": STANDARD, "as_of": AS_OF,
             "state": "draft", "created_at": dt.datetime.now(dt.UTC), "created_by": "x"},
        )  # fmt: skip
    selection.create(session, year=YEAR + 1, standard_id=STANDARD, as_of=AS_OF, actor="省经信厅")
    session.commit()
    assert [s.year for s in selection.list_(session)] == [YEAR + 1, YEAR]


def test_cli_happy_path(session: Session, snapshot: TierSnapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    set_today(monkeypatch, "2026-06-30")
    companies = sorted(tiered(session, snapshot))
    session.close()

    missing = cli("selection", "create", "--year", "2025", "--standard", STANDARD, "--as-of", "2024-01-01")
    assert missing.exit_code == 1
    assert "qilin tiers snapshot" in missing.output

    result = cli("selection", "create", "--year", "2025", "--standard", STANDARD, "--as-of", "2025-06-30")
    assert result.exit_code == 0, result.output
    assert f"{len(companies)} 家企业" in result.output and f"{len(companies)} enterprises" in result.output

    result = cli(
        "selection", "exclude", "2025", companies[0], "--actor", "杭州市经信局", "--reason", "已迁出"
    )
    assert result.exit_code == 0, result.output
    assert "已剔除" in result.output

    refused = cli("selection", "advance", "2025", "--to", "published", "--actor", "省经信厅")
    assert refused.exit_code == 1
    assert "city_review" in refused.output and "草稿" in refused.output

    for to in ("city_review", "provincial_review"):
        result = cli("selection", "advance", "2025", "--to", to, "--actor", "杭州市经信局")
        assert result.exit_code == 0, result.output
    no_dates = cli("selection", "advance", "2025", "--to", "public_notice", "--actor", "省经信厅")
    assert no_dates.exit_code == 1 and "--notice-start" in no_dates.output
    result = cli(
        "selection", "advance", "2025", "--to", "public_notice", "--actor", "省经信厅",
        "--notice-start", "2026-06-25", "--notice-end", "2026-07-01",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "公示" in result.output and "public notice" in result.output

    result = cli("selection", "object", "2025", companies[1], "--by", "张三", "--text", "估值不实")
    assert result.exit_code == 0, result.output
    recorded = re.search(r"已登记异议 (\d+)", result.output)
    assert recorded is not None
    objection_id = int(recorded.group(1))
    result = cli(
        "selection",
        "resolve",
        "2025",
        str(objection_id),
        "--dismissed",
        "--actor",
        "省经信厅",
        "--comment",
        "查无实据",
    )
    assert result.exit_code == 0, result.output
    assert "异议不成立" in result.output and "dismissed" in result.output

    early = cli("selection", "advance", "2025", "--to", "published", "--actor", "省经信厅")
    assert early.exit_code == 1 and "2026-07-01" in early.output
    set_today(monkeypatch, "2026-07-02")
    result = cli(
        "selection", "advance", "2025", "--to", "published", "--actor", "省经信厅", "--comment", "发布"
    )
    assert result.exit_code == 0, result.output

    frozen = cli("selection", "restore", "2025", companies[0], "--actor", "省经信厅", "--reason", "x")
    assert frozen.exit_code == 1 and "名单不能再调整" in frozen.output
    result = cli(
        "selection", "remove", "2025", companies[2], "--actor", "省经信厅", "--reason", "提供虚假材料"
    )
    assert result.exit_code == 0, result.output

    result = cli("selection", "show", "2025")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "已发布 published" in out
    assert "已撤销（提供虚假材料）" in out and "提供虚假材料" in out
    log = [line for line in out.splitlines() if re.match(r"^│ [1-9] ", line) and "UTC" in line]
    assert [line.count("省经信厅") + line.count("杭州市经信局") for line in log] == [1, 1, 1, 1]
    assert "公示 public notice" in log[2] and "已发布 published" in log[3] and "发布" in log[3]
    for label in (
        "市级审核 city review",
        "省级审核 provincial review",
        "公示 public notice",
        "异议不成立 dismissed",
    ):
        assert label in out
    assert "2026-06-25 ~ 2026-07-01" in out
    assert "张三" in out and "查无实据" in out
    result = cli("selection", "list")
    assert result.exit_code == 0 and "2025" in result.output

    missing_year = cli("selection", "show", "2030")
    assert missing_year.exit_code == 1 and "没有 2030 年度遴选" in missing_year.output
