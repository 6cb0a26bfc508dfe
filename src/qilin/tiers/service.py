"""Tier operations on the registry: build the facts, evaluate, snapshot, diff."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from qilin.registry.models import (
    Enterprise,
    EnterpriseTrack,
    FundingRound,
    LifecycleEvent,
    StatusRecord,
    Valuation,
)
from qilin.tiers.facts import EnterpriseFacts, EventFact, RoundFact, StatusFact, ValuationFact

CHUNK = 2000


def _cents(value: Decimal | None) -> int | None:
    return None if value is None else int(value.scaleb(2))


def load_facts(session: Session, *, enterprise_ids: Sequence[str] | None = None) -> list[EnterpriseFacts]:
    """Every enterprise's facts (or those of ``enterprise_ids``), with all their records: cut them to a
    date with :meth:`EnterpriseFacts.as_of` (the evaluators do)."""
    query = select(
        Enterprise.id, Enterprise.name, Enterprise.founded_on, Enterprise.country, Enterprise.region_code
    ).order_by(Enterprise.id)
    if enterprise_ids is not None:
        query = query.where(Enterprise.id.in_(list(enterprise_ids)))
    heads = session.execute(query).all()
    ids = [h.id for h in heads]
    tracks: dict[str, list[str]] = defaultdict(list)
    rounds: dict[str, list[RoundFact]] = defaultdict(list)
    valuations: dict[str, list[ValuationFact]] = defaultdict(list)
    statuses: dict[str, list[StatusFact]] = defaultdict(list)
    events: dict[str, list[EventFact]] = defaultdict(list)
    chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)] if enterprise_ids is not None else [None]
    fr, va, st, ev, tr = FundingRound, Valuation, StatusRecord, LifecycleEvent, EnterpriseTrack
    for chunk in chunks:

        def scoped(
            stmt: Select[Any], column: InstrumentedAttribute[str], ids: list[str] | None = chunk
        ) -> Select[Any]:
            return stmt if ids is None else stmt.where(column.in_(ids))

        for eid, code in session.execute(scoped(select(tr.enterprise_id, tr.track_code), tr.enterprise_id)):
            tracks[eid].append(code)
        round_query = select(
            fr.id, fr.enterprise_id, fr.announced_on, fr.round_type, fr.amount, fr.amount_low, fr.currency,
            fr.post_money_valuation, fr.post_money_currency,
        )  # fmt: skip
        for r in session.execute(scoped(round_query, fr.enterprise_id)):
            rounds[r.enterprise_id].append(
                RoundFact(
                    str(r.id), r.announced_on, r.round_type, _cents(r.amount), _cents(r.amount_low),
                    r.currency, _cents(r.post_money_valuation), r.post_money_currency,
                )
            )  # fmt: skip
        valuation_query = select(
            va.id, va.enterprise_id, va.as_of, va.value, va.currency, va.evidence, va.source
        )
        for v in session.execute(scoped(valuation_query, va.enterprise_id)):
            valuations[v.enterprise_id].append(
                ValuationFact(str(v.id), v.as_of, _cents(v.value) or 0, v.currency, v.evidence, v.source)
            )
        for s in session.execute(scoped(select(st.enterprise_id, st.status, st.as_of), st.enterprise_id)):
            statuses[s.enterprise_id].append(StatusFact(s.status, s.as_of))
        event_query = select(
            ev.id, ev.enterprise_id, ev.kind, ev.occurred_on, ev.from_region_code, ev.to_region_code
        )
        for e in session.execute(scoped(event_query, ev.enterprise_id)):
            events[e.enterprise_id].append(
                EventFact(str(e.id), e.kind, e.occurred_on, e.from_region_code, e.to_region_code)
            )
    return [
        EnterpriseFacts(
            enterprise_id=h.id,
            name=h.name,
            founded_on=h.founded_on,
            country=h.country,
            region_code=h.region_code,
            tracks=tuple(sorted(tracks[h.id])),
            rounds=tuple(rounds[h.id]),
            valuations=tuple(valuations[h.id]),
            statuses=tuple(statuses[h.id]),
            events=tuple(events[h.id]),
        )
        for h in heads
    ]
