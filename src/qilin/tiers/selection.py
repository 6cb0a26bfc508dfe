"""The yearly selection workflow (年度遴选) of the action plan's task 3.

A selection for a year is built from a tier snapshot: its draft list holds the snapshot's enterprises in a
tier. It then passes city review (市级审核), provincial review (省级审核) and public notice (公示, with an
objection period) to publication (发布). Reviews may send it back; public notice goes back to provincial
review when an objection is upheld. Every allowed move is one pair of :data:`TRANSITIONS`; every move is
logged with its actor, time, states and comment.

The list changes only while it is a draft or in city review (an entry excluded or restored, with a reason),
except that an enterprise proven to have supplied false data (提供虚假材料) is removed, in any state, with a
recorded reason: after publication that removal is the only change the list accepts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from qilin.common.dates import today
from qilin.common.messages import SHARED, both, t
from qilin.common.text import control_character, is_blank
from qilin.common.workflow import Workflow
from qilin.db import utcnow
from qilin.reference import regions
from qilin.registry.models import Enterprise
from qilin.tiers.models import TierSnapshotEntry
from qilin.tiers.selection_models import (
    STATES,
    Selection,
    SelectionEntry,
    SelectionEntryChange,
    SelectionObjection,
    SelectionTransition,
)
from qilin.tiers.service import TierError, find_snapshot
from qilin.tiers.standards import TIER_CODES

__all__ = [
    "EDITABLE_STATES",
    "OBJECTION_ID_MAX",
    "RETURNS",
    "STATES",
    "TRANSITIONS",
    "YEAR_MAX",
    "YEAR_MIN",
    "EntryView",
    "SelectionError",
    "SelectionSummary",
    "advance",
    "allowed_next",
    "changes",
    "create",
    "exclude_entry",
    "get",
    "list_",
    "objections",
    "record_objection",
    "remove_for_false_data",
    "resolve_objection",
    "restore_entry",
    "state_label",
    "states_text",
    "summarize",
    "transitions",
]

# The workflow: every allowed (from, to) move. Anything else is refused.
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("draft", "city_review"),  # 提交市级审核
        ("city_review", "provincial_review"),  # 市级审核通过
        ("city_review", "draft"),  # 市级退回
        ("provincial_review", "public_notice"),  # 省级审核通过，进入公示
        ("provincial_review", "draft"),  # 省级退回
        ("public_notice", "published"),  # 公示期满，发布
        ("public_notice", "provincial_review"),  # 异议成立，退回省级审核
    }
)
_ORDER = {state: i for i, state in enumerate(STATES)}
# Sending back (退回): the moves against the normal order. They need a comment.
RETURNS: frozenset[tuple[str, str]] = frozenset(p for p in TRANSITIONS if _ORDER[p[1]] < _ORDER[p[0]])
# States in which the list may be adjusted (exclusion and restoration).
EDITABLE_STATES = frozenset({"draft", "city_review"})

ACTOR_MAX, OBJECTOR_MAX = 100, 200
# Selection years: the platform's exchange rates start in 2000, and the action plan's rounds are yearly from
# 2024; a year outside these bounds is a typo (and a huge one would not even fit the database's INTEGER).
YEAR_MIN, YEAR_MAX = 2000, 2100
OBJECTION_ID_MAX = 2**31 - 1  # ids are INTEGER: 32 bits on PostgreSQL


class SelectionError(Exception):
    """A selection operation that cannot be done; ``str()`` is the bilingual message, ``key`` its
    catalog key."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


Field = str | int | Callable[[str], str]


WORKFLOW = Workflow(STATES, TRANSITIONS, SHARED, prefix="selection")
state_label = WORKFLOW.label
allowed_next = WORKFLOW.allowed_next
states_text = WORKFLOW.states_text


def _error(key: str, **fields: Field) -> SelectionError:
    return SelectionError(both(key, **fields), key=key)


def _check_year(year: int) -> None:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise _error("selection.year_range", min=YEAR_MIN, max=YEAR_MAX, year=year)


def _optional(value: str | None) -> str | None:
    """Free text (an actor, a comment, an objection) stripped; None when it shows nothing; refused with a
    control character, which would reach the audit log, the pages and the exports."""
    text = (value or "").strip()
    if not text or is_blank(text):
        return None
    char = control_character(text)
    if char is not None:
        raise _error("field.control_char", char=char)
    return text


def _required(value: str | None, key: str, *, limit: int | None = None) -> str:
    text = _optional(value)
    if text is None:
        raise _error(key)
    if limit is not None and len(text) > limit:
        raise _error("selection.too_long", max=limit)
    return text


# ---- reading ----------------------------------------------------------------------------------------------


def get(session: Session, *, year: int, for_update: bool = False) -> Selection:
    """The selection of ``year``; ``for_update`` locks its row (PostgreSQL) so that concurrent changes of
    one selection happen one after the other."""
    _check_year(year)
    query = select(Selection).where(Selection.year == year)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    selection = session.scalar(query)
    if selection is None:
        raise _error("selection.not_found", year=year)
    return selection


def list_(session: Session) -> list[Selection]:
    """Every selection, the latest year first."""
    return list(session.scalars(select(Selection).order_by(Selection.year.desc())))


def transitions(session: Session, *, year: int) -> list[SelectionTransition]:
    """The selection's transition log, oldest first."""
    return _transitions(session, get(session, year=year))


def objections(session: Session, *, year: int) -> list[SelectionObjection]:
    """The selection's objections, in the order they were recorded."""
    return _objections(session, get(session, year=year))


def changes(session: Session, *, year: int) -> list[SelectionEntryChange]:
    """The list's changes (exclusions, restorations, removals), oldest first."""
    return _changes(session, get(session, year=year))


def _transitions(session: Session, selection: Selection) -> list[SelectionTransition]:
    query = select(SelectionTransition).where(SelectionTransition.selection_id == selection.id)
    return list(session.scalars(query.order_by(SelectionTransition.id)))


def _objections(session: Session, selection: Selection) -> list[SelectionObjection]:
    query = select(SelectionObjection).where(SelectionObjection.selection_id == selection.id)
    return list(session.scalars(query.order_by(SelectionObjection.id)))


def _changes(session: Session, selection: Selection) -> list[SelectionEntryChange]:
    query = select(SelectionEntryChange).where(SelectionEntryChange.selection_id == selection.id)
    return list(session.scalars(query.order_by(SelectionEntryChange.id)))


def _entry(session: Session, selection: Selection, enterprise_id: str) -> SelectionEntry:
    entry = session.get(SelectionEntry, (selection.id, enterprise_id))
    if entry is None:
        raise _error("selection.entry_not_found", id=enterprise_id, year=selection.year)
    return entry


# ---- creating and moving ----------------------------------------------------------------------------------


def create(session: Session, *, year: int, standard_id: str, as_of: dt.date, actor: str) -> Selection:
    """Start the selection of ``year`` from the snapshot of ``standard_id`` as of ``as_of``: a draft list
    of the snapshot's enterprises in a tier. One selection per year."""
    _check_year(year)
    actor = _required(actor, "selection.actor_required", limit=ACTOR_MAX)
    if session.scalar(select(Selection.id).where(Selection.year == year)) is not None:
        raise _error("selection.exists", year=year)
    try:
        snapshot = find_snapshot(session, standard_id=standard_id, as_of=as_of)
    except TierError as exc:
        raise SelectionError(str(exc), key="selection.no_snapshot") from exc
    rows = session.execute(
        select(TierSnapshotEntry.enterprise_id, TierSnapshotEntry.tier, TierSnapshotEntry.region_code)
        .where(TierSnapshotEntry.snapshot_id == snapshot.id, TierSnapshotEntry.tier != "none")
        .order_by(TierSnapshotEntry.enterprise_id)
    ).all()
    if not rows:
        raise _error("selection.empty_snapshot", standard=standard_id, as_of=as_of.isoformat())
    selection = Selection(
        year=year,
        snapshot_id=snapshot.id,
        standard_id=snapshot.standard_id,
        as_of=snapshot.as_of,
        state="draft",
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(selection)
    session.flush()
    session.add_all(
        SelectionEntry(
            selection_id=selection.id,
            enterprise_id=enterprise_id,
            tier=tier,
            region_code=region_code,
            status="included",
        )
        for enterprise_id, tier, region_code in rows
    )
    session.flush()
    return selection


def advance(
    session: Session,
    *,
    year: int,
    to_state: str,
    actor: str,
    comment: str | None = None,
    notice_start: dt.date | None = None,
    notice_end: dt.date | None = None,
) -> SelectionTransition:
    """Move the selection of ``year`` to ``to_state`` if :data:`TRANSITIONS` allows it, and log the move.

    Sending back needs a comment; entering public notice needs the objection period (``notice_start`` to
    ``notice_end``, both included), not ended yet (else the objection period would be skipped) and not
    starting before the snapshot the list comes from; publishing needs that period to have ended and every
    objection to be resolved; going back from public notice needs an objection upheld during this notice.
    """
    selection = get(session, year=year, for_update=True)
    current = selection.state
    if (current, to_state) not in TRANSITIONS:
        raise _error(
            "selection.transition_refused",
            year=year,
            state=partial(state_label, current),
            target=partial(state_label, to_state),
            allowed=partial(states_text, allowed_next(current)),
        )
    actor = _required(actor, "selection.actor_required", limit=ACTOR_MAX)
    note = _optional(comment)
    if (current, to_state) in RETURNS and note is None:
        raise _error("selection.comment_required")
    if to_state == "public_notice":
        if notice_start is None or notice_end is None:
            raise _error("selection.notice_dates_required")
        if notice_end < notice_start:
            raise _error(
                "selection.notice_dates_order", start=notice_start.isoformat(), end=notice_end.isoformat()
            )
        now = today()
        if notice_end < now:
            raise _error("selection.notice_ended", end=notice_end.isoformat(), today=now.isoformat())
        if notice_start < selection.as_of:
            raise _error(
                "selection.notice_before_snapshot",
                start=notice_start.isoformat(),
                as_of=selection.as_of.isoformat(),
            )
    elif notice_start is not None or notice_end is not None:
        raise _error("selection.notice_dates_unexpected")
    if to_state == "published":
        _check_publishable(session, selection)
    if (current, to_state) == ("public_notice", "provincial_review"):
        _check_upheld_objection(session, selection)

    transition = SelectionTransition(
        selection_id=selection.id,
        from_state=current,
        to_state=to_state,
        actor=actor,
        at=utcnow(),
        comment=note,
        notice_start=notice_start,
        notice_end=notice_end,
    )
    if to_state == "public_notice":
        selection.notice_start, selection.notice_end = notice_start, notice_end
    selection.state = to_state
    session.add(transition)
    session.flush()
    return transition


def _open_objections(session: Session, selection: Selection) -> list[int]:
    query = select(SelectionObjection.id).where(
        SelectionObjection.selection_id == selection.id, SelectionObjection.resolution.is_(None)
    )
    return list(session.scalars(query.order_by(SelectionObjection.id)))


def _check_publishable(session: Session, selection: Selection) -> None:
    now = today()
    assert selection.notice_end is not None  # public notice always has its period
    if now <= selection.notice_end:
        raise _error(
            "selection.notice_not_ended", end=selection.notice_end.isoformat(), today=now.isoformat()
        )
    still_open = _open_objections(session, selection)
    if still_open:
        raise _error(
            "selection.objections_open", count=len(still_open), ids=", ".join(str(i) for i in still_open)
        )


def _check_upheld_objection(session: Session, selection: Selection) -> None:
    # Objections are resolved only during public notice, so those resolved since the selection last
    # entered it belong to this notice.
    entered = session.scalar(
        select(SelectionTransition.at)
        .where(
            SelectionTransition.selection_id == selection.id, SelectionTransition.to_state == "public_notice"
        )
        .order_by(SelectionTransition.id.desc())
        .limit(1)
    )
    query = select(SelectionObjection.id).where(
        SelectionObjection.selection_id == selection.id, SelectionObjection.resolution == "upheld"
    )
    if entered is not None:
        query = query.where(SelectionObjection.resolved_at >= entered)
    if session.scalar(query.limit(1)) is None:
        raise _error("selection.return_needs_upheld")


# ---- objections (异议) ------------------------------------------------------------------------------------


def record_objection(
    session: Session,
    *,
    year: int,
    enterprise_id: str,
    objector: str,
    text: str,
    received_on: dt.date | None = None,
) -> SelectionObjection:
    """Record an objection to an enterprise of the list; only during public notice, received within the
    objection period and not in the future (``received_on`` defaults to today)."""
    selection = get(session, year=year, for_update=True)
    if selection.state != "public_notice":
        raise _error("selection.objection_not_in_notice", state=partial(state_label, selection.state))
    entry = _entry(session, selection, enterprise_id)
    objector = _required(objector, "selection.objector_required", limit=OBJECTOR_MAX)
    body = _required(text, "selection.text_required")
    received = received_on or today()
    if received > today():
        raise _error("selection.received_in_future", received=received.isoformat(), today=today().isoformat())
    assert selection.notice_start is not None and selection.notice_end is not None
    if not selection.notice_start <= received <= selection.notice_end:
        raise _error(
            "selection.received_outside_notice",
            received=received.isoformat(),
            start=selection.notice_start.isoformat(),
            end=selection.notice_end.isoformat(),
        )
    objection = SelectionObjection(
        selection_id=selection.id,
        enterprise_id=entry.enterprise_id,
        objector=objector,
        text=body,
        received_on=received,
        recorded_at=utcnow(),
    )
    session.add(objection)
    session.flush()
    return objection


def resolve_objection(
    session: Session, *, year: int, objection_id: int, upheld: bool, actor: str, comment: str
) -> SelectionObjection:
    """Resolve an open objection as upheld (成立) or dismissed (不成立), with the resolution recorded;
    only during public notice."""
    selection = get(session, year=year, for_update=True)
    known = 1 <= objection_id <= OBJECTION_ID_MAX  # a larger number would not reach the database
    objection = session.get(SelectionObjection, objection_id) if known else None
    if objection is None or objection.selection_id != selection.id:
        raise _error("selection.objection_not_found", id=objection_id, year=year)
    if objection.resolution is not None:
        raise _error(
            "selection.objection_resolved",
            id=objection_id,
            resolution=partial(_resolution_text, objection.resolution),
        )
    if selection.state != "public_notice":
        raise _error("selection.resolve_not_in_notice", state=partial(state_label, selection.state))
    objection.resolution_comment = _required(comment, "selection.resolution_required")
    objection.resolved_by = _required(actor, "selection.actor_required", limit=ACTOR_MAX)
    objection.resolution = "upheld" if upheld else "dismissed"
    objection.resolved_at = utcnow()
    session.flush()
    return objection


def _resolution_text(code: str, lang: str) -> str:
    return t(f"selection.resolution.{code}", lang=lang)


# ---- the list ---------------------------------------------------------------------------------------------


def _change(
    session: Session, selection: Selection, enterprise_id: str, *, action: str, actor: str, reason: str
) -> SelectionEntry:
    entry = _entry(session, selection, enterprise_id)
    actor = _required(actor, "selection.actor_required", limit=ACTOR_MAX)
    reason = _required(reason, "selection.reason_required")
    if entry.status == "removed":
        raise _error("selection.entry_removed", id=enterprise_id)
    now = utcnow()
    if action == "exclude":
        if entry.status == "excluded":
            raise _error("selection.entry_already_excluded", id=enterprise_id)
        entry.status = "excluded"
    elif action == "restore":
        if entry.status != "excluded":
            raise _error("selection.entry_not_excluded", id=enterprise_id)
        entry.status = "included"
    else:
        entry.status = "removed"
        entry.removed_at, entry.removed_by, entry.removed_reason = now, actor, reason
    session.add(
        SelectionEntryChange(
            selection_id=selection.id,
            enterprise_id=enterprise_id,
            action=action,
            reason=reason,
            actor=actor,
            at=now,
        )
    )
    session.flush()
    return entry


def _editable(session: Session, year: int) -> Selection:
    selection = get(session, year=year, for_update=True)
    if selection.state not in EDITABLE_STATES:
        raise _error("selection.list_frozen", state=partial(state_label, selection.state))
    return selection


def exclude_entry(
    session: Session, *, year: int, enterprise_id: str, actor: str, reason: str
) -> SelectionEntry:
    """Take an enterprise off the list (剔除) during draft or city review, with a reason."""
    selection = _editable(session, year)
    return _change(session, selection, enterprise_id, action="exclude", actor=actor, reason=reason)


def restore_entry(
    session: Session, *, year: int, enterprise_id: str, actor: str, reason: str
) -> SelectionEntry:
    """Put an excluded enterprise back on the list (恢复) during draft or city review, with a reason."""
    selection = _editable(session, year)
    return _change(session, selection, enterprise_id, action="restore", actor=actor, reason=reason)


def remove_for_false_data(
    session: Session, *, year: int, enterprise_id: str, actor: str, reason: str
) -> SelectionEntry:
    """Remove an enterprise proven to have supplied false data (提供虚假材料), in any state, published
    included. The entry stays, marked removed with the reason, actor and time; removal is final."""
    selection = get(session, year=year, for_update=True)
    return _change(session, selection, enterprise_id, action="remove", actor=actor, reason=reason)


# ---- summary ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryView:
    enterprise_id: str
    name: str
    synthetic: bool
    tier: str
    region_code: str | None
    city: str | None  # 地级市 name; None when the region is unknown
    status: str
    reason: str | None  # of the latest change
    changed_by: str | None
    changed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SelectionSummary:
    """Everything ``qilin selection show`` lays out, as plain data."""

    year: int
    state: str
    allowed_next: tuple[str, ...]
    standard_id: str
    as_of: dt.date
    created_by: str
    created_at: dt.datetime
    notice_start: dt.date | None
    notice_end: dt.date | None
    by_status: dict[str, int]
    by_tier: dict[str, int]  # enterprises on the list (included), in tier order
    by_city: dict[str | None, int]  # enterprises on the list, most first
    entries: list[EntryView]
    transitions: list[SelectionTransition]
    changes: list[SelectionEntryChange]
    objections: list[SelectionObjection]


def summarize(session: Session, *, year: int) -> SelectionSummary:
    """The selection of ``year``: state, counts by status, tier and city, entries, logs and objections."""
    selection = get(session, year=year)
    rows = list(
        session.scalars(
            select(SelectionEntry)
            .where(SelectionEntry.selection_id == selection.id)
            .order_by(SelectionEntry.enterprise_id)
        )
    )
    names = {
        eid: (name, synthetic)
        for eid, name, synthetic in session.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.is_synthetic).where(
                Enterprise.id.in_([r.enterprise_id for r in rows])
            )
        )
    }
    log = _changes(session, selection)
    latest = {c.enterprise_id: c for c in log}
    tier_order = {code: i for i, code in enumerate(TIER_CODES)}
    entries = []
    for r in sorted(rows, key=lambda r: (tier_order.get(r.tier, len(TIER_CODES)), r.enterprise_id)):
        city = regions.city_of(r.region_code) if r.region_code else None
        last = latest.get(r.enterprise_id)
        name, synthetic = names.get(r.enterprise_id, ("", False))
        entries.append(
            EntryView(
                enterprise_id=r.enterprise_id,
                name=name,
                synthetic=synthetic,
                tier=r.tier,
                region_code=r.region_code,
                city=city.name if city else None,
                status=r.status,
                reason=last.reason if last else None,
                changed_by=last.actor if last else None,
                changed_at=last.at if last else None,
            )
        )
    listed = [e for e in entries if e.status == "included"]
    by_tier = Counter(e.tier for e in listed)
    return SelectionSummary(
        year=selection.year,
        state=selection.state,
        allowed_next=allowed_next(selection.state),
        standard_id=selection.standard_id,
        as_of=selection.as_of,
        created_by=selection.created_by,
        created_at=selection.created_at,
        notice_start=selection.notice_start,
        notice_end=selection.notice_end,
        by_status=dict(Counter(e.status for e in entries)),
        by_tier={code: by_tier[code] for code in TIER_CODES if by_tier[code]},
        by_city=dict(Counter(e.city for e in listed).most_common()),
        entries=entries,
        transitions=_transitions(session, selection),
        changes=log,
        objections=_objections(session, selection),
    )
