"""``/api/v1/audit``: the audit log for province administrators (read only: no route changes it)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from qilin.audit import service
from qilin.audit.models import AuditEntry
from qilin.auth.roles import Permission
from qilin.auth.scope import Principal
from qilin.web.security import db_session, require

router = APIRouter(prefix="/audit", tags=["审计 audit"])
BEIJING_DAY = "北京时间的日期（含当日）/ a day in Beijing time, UTC+8 (inclusive); `at` is given in UTC"


def entry_json(e: AuditEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at,
        "actor": e.actor,
        "channel": e.channel,
        "action": e.action,
        "subject_type": e.subject_type,
        "subject_id": e.subject_id,
        "old": e.old,
        "new": e.new,
        "source_address": e.source_address,
    }


@router.get("", summary="审计日志 / the audit log, newest first")
def audit_log(
    principal: Annotated[Principal, Depends(require(Permission.read_audit))],
    session: Annotated[Session, Depends(db_session)],
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    subject_id: Annotated[str | None, Query(max_length=255)] = None,
    since: Annotated[dt.date | None, Query(description=BEIJING_DAY)] = None,
    until: Annotated[dt.date | None, Query(description=BEIJING_DAY)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    rows, total = service.list_(
        session,
        actor=actor,
        action=action,
        subject_id=subject_id,
        since=since,
        until=until,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return {"items": [entry_json(e) for e in rows], "total": total}
