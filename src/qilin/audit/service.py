"""Writing and reading the audit log. Writers call :func:`record` inside their own transaction, so the
audit row and the change commit or roll back together."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qilin.audit.models import AuditEntry
from qilin.common.dates import day_start
from qilin.common.text import CONTROL


@dataclass(frozen=True)
class Actor:
    """Who writes: a user name (or the operating-system user on the command line), the channel
    (web / api / cli) and the source address of the request."""

    name: str
    channel: str
    address: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        """The operating-system user. Its name comes from the environment (LOGNAME, USER …), so a control
        character in it is recorded escaped (``\\u0001``): truthful, and harmless in the log, its pages and
        exports."""
        try:
            user = getpass.getuser()
        except Exception:  # no login name in some containers
            user = "unknown"
        user = CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", user)
        return cls(name=f"cli:{user}", channel="cli", address="local")


ACTING = "qilin.acting"  # Session.info key: the web user whose workflow writes the audit hook records


def acting(session: Session, actor: Actor) -> None:
    """Name ``actor`` (user, channel, address) for the workflow records this session writes next, which
    the audit hook (:mod:`qilin.audit.hooks`) mirrors; without it they are the command line's."""
    session.info[ACTING] = actor


def jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dt.date | dt.datetime):
            out[key] = value.isoformat()
        elif value is None or isinstance(value, str | int | float | bool | list | dict):
            out[key] = value
        else:
            out[key] = str(value)
    return out


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str | int | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit row to ``session`` (flushed with the change it describes)."""
    entry = AuditEntry(
        actor=actor.name,
        channel=actor.channel,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        old=jsonable(old),
        new=jsonable(new),
        source_address=actor.address,
    )
    session.add(entry)
    return entry


def list_(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    subject_id: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[AuditEntry], int]:
    """Entries, newest first, with the total matching the filters."""
    conditions = []
    if actor:
        conditions.append(AuditEntry.actor == actor)
    if action:
        conditions.append(AuditEntry.action == action)
    if subject_id:
        conditions.append(AuditEntry.subject_id == subject_id)
    if since and since > dt.date.min:  # the first day's Beijing midnight is before year 1 in UTC: no bound
        conditions.append(AuditEntry.at >= day_start(since))
    if until and until < dt.date.max:  # the last representable day has no "day after": no upper bound
        conditions.append(AuditEntry.at < day_start(until + dt.timedelta(days=1)))
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
    ).all()
    return rows, total
