"""Workflow records mirrored into the audit log (审计日志).

The yearly selection, leads, tier snapshots and discovery runs keep their own append-only logs
(transitions, changes, objections). So that the audit log is the one place to read every write, each new
record of those kinds — and each resolved objection — also adds an audit row, in the same transaction, from
one ``after_flush`` hook rather than a call repeated in every service function. The actor is the name the
workflow recorded (``actor``, ``created_by``, ``recorded_by`` …). These writes come from the command line,
unless a web route names its user with :func:`qilin.audit.service.acting` (channel and address).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, UOWTransaction

from qilin.audit.models import AuditEntry
from qilin.audit.service import ACTING, Actor, jsonable
from qilin.db import utcnow
from qilin.discovery.leads_models import Lead, LeadTransition
from qilin.discovery.runs_models import DiscoveryRun
from qilin.tiers.models import TierSnapshot
from qilin.tiers.selection_models import (
    Selection,
    SelectionEntryChange,
    SelectionObjection,
    SelectionTransition,
)

# class → (action, subject type, subject id, actor name or None for the OS user, new values)
Describe = Callable[[Any], tuple[str, str, str, str | None, dict[str, Any]]]

_NEW: dict[type, Describe] = {
    Selection: lambda s: (
        "selection.create", "selection", str(s.year), s.created_by,
        {"standard": s.standard_id, "as_of": s.as_of, "state": s.state},
    ),
    SelectionTransition: lambda t: (
        "selection.transition", "selection", str(t.selection_id), t.actor,
        {"from": t.from_state, "to": t.to_state, "comment": t.comment},
    ),
    SelectionEntryChange: lambda c: (
        f"selection.{c.action}", "selection_entry", f"{c.selection_id}:{c.enterprise_id}", c.actor,
        {"reason": c.reason},
    ),
    SelectionObjection: lambda o: (
        "selection.objection", "selection_entry", f"{o.selection_id}:{o.enterprise_id}", None,
        {"objector": o.objector, "received_on": o.received_on},
    ),
    Lead: lambda lead: (
        "lead.create", "lead", str(lead.id), lead.recorded_by,
        {"channel": lead.channel, "name": lead.name, "uscc": lead.uscc, "status": lead.status},
    ),
    LeadTransition: lambda t: (
        "lead.transition", "lead", str(t.lead_id), t.actor,
        {"from": t.from_state, "to": t.to_state, "comment": t.comment, "enterprise_id": t.enterprise_id},
    ),
    TierSnapshot: lambda s: (
        "tiers.snapshot", "tier_snapshot", str(s.id), s.taken_by,
        {"standard": s.standard_id, "version": s.standard_version, "as_of": s.as_of,
         "enterprises": s.enterprises},
    ),
    DiscoveryRun: lambda r: (
        "discovery.run", "discovery_run", str(r.id), None,
        {"as_of": r.as_of, "model_version": r.model_version, "enterprises": r.enterprises},
    ),
}  # fmt: skip


def _row(
    via: Actor | None, action: str, subject_type: str, subject_id: str, name: str | None, new: dict[str, Any]
) -> dict[str, Any]:
    fallback = via or Actor.cli()
    return {
        "at": utcnow(),
        "actor": (name or fallback.name)[:100],
        "channel": fallback.channel,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "old": None,
        "new": jsonable(new),
        "source_address": fallback.address,
    }


@event.listens_for(Session, "after_flush")
def _mirror(session: Session, flush_context: UOWTransaction) -> None:
    rows = []
    via = session.info.get(ACTING)
    for obj in session.new:
        describe = _NEW.get(type(obj))
        if describe is not None:
            rows.append(_row(via, *describe(obj)))
    for obj in session.dirty:
        if isinstance(obj, SelectionObjection) and obj.resolution and session.is_modified(obj):
            rows.append(
                _row(
                    via, "selection.objection_resolve", "selection_entry",
                    f"{obj.selection_id}:{obj.enterprise_id}",
                    obj.resolved_by, {"resolution": obj.resolution, "comment": obj.resolution_comment},
                )
            )  # fmt: skip
    if rows:
        session.connection().execute(insert(AuditEntry), rows)
