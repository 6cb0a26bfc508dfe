"""Workflow records (snapshots, discovery runs, leads and their transitions, the yearly selection) are
mirrored into the audit log in their own transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from qilin.audit.models import AuditEntry
from qilin.discovery.leads_models import Lead, LeadTransition, Recommender
from qilin.discovery.runs_models import DiscoveryRun
from qilin.tiers import selection
from webkit import SNAPSHOT_AS_OF, build_dataset


def _actions(session: Session) -> list[tuple[str, str, str | None]]:
    return [
        (e.action, e.actor, e.subject_id)
        for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        if not e.action.startswith("registry.")
    ]


def test_workflow_records_reach_the_audit_log(session: Session) -> None:
    build_dataset(session)  # takes a snapshot (taken_by "test") and stores a discovery run and two leads
    actions = _actions(session)
    assert ("tiers.snapshot", "test", actions[0][2]) == actions[0]
    assert [a[0] for a in actions].count("lead.create") == 2
    assert any(a[0] == "discovery.run" for a in actions)
    created = selection.create(
        session, year=2025, standard_id="zhejiang-2024", as_of=SNAPSHOT_AS_OF, actor="省经信厅张三"
    )
    session.commit()
    assert _actions(session)[-1] == ("selection.create", "省经信厅张三", "2025")
    selection.advance(
        session, year=created.year, to_state="city_review", actor="杭州市李四", comment="请审核"
    )
    session.commit()
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (last.action, last.actor, last.channel) == ("selection.transition", "杭州市李四", "cli")
    assert last.new == {"from": "draft", "to": "city_review", "comment": "请审核"}


def test_a_rolled_back_workflow_write_leaves_no_audit_row(session: Session) -> None:
    recommender = Recommender(name="某基金", kind="investor")
    session.add(recommender)
    session.flush()
    lead = Lead(
        channel="leading_fund", recommender_id=recommender.id, identity="name:x", name="某某科技有限公司",
        tracks=[], submitted={}, submitted_on=dt.date(2025, 1, 1), recorded_by="王五",
    )  # fmt: skip
    session.add(lead)
    session.flush()
    session.add(LeadTransition(lead_id=lead.id, from_state="new", to_state="verifying", actor="王五"))
    session.flush()
    assert [a[0] for a in _actions(session)] == ["lead.create", "lead.transition"]
    session.rollback()
    assert _actions(session) == []


def test_discovery_run_row_names_model_and_date(session: Session) -> None:
    session.add(DiscoveryRun(as_of=dt.date(2025, 6, 30), model_version="m-1", enterprises=0))
    session.commit()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "discovery.run")).one()
    assert entry.new == {"as_of": "2025-06-30", "model_version": "m-1", "enterprises": 0}
