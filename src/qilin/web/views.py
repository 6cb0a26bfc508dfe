"""Data for the overview pages: 梯度培育库 (tiers), 智能发现 (discovery), 标准 (standards), 线索 (leads) and
审计日志 (audit). Each function takes the viewer's principal and keeps to its scope."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Container, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qilin.audit import service as audit_service
from qilin.audit.models import AuditEntry
from qilin.auth.roles import Permission, Role
from qilin.auth.scope import Principal, enterprise_filter, lead_filter
from qilin.common.dates import local_time, parse_iso_date, today
from qilin.common.messages import SHARED
from qilin.common.messages import t as shared_t
from qilin.config import get_settings
from qilin.discovery import leads as leads_service
from qilin.discovery.api import (
    latest_run,
    lead_in_scope,
    list_leads,
    recent_signals,
    scoped_ids,
    watch_list,
)
from qilin.discovery.backtest import BASELINES, METRICS
from qilin.discovery.leads_models import CHANNELS, STATES, Lead
from qilin.discovery.signals import KIND_NAMES
from qilin.reference import regions
from qilin.registry.issues import ImportIssue
from qilin.registry.models import Enterprise
from qilin.registry.search import ids_in_scope
from qilin.tiers import explain
from qilin.tiers import service as tiers_service
from qilin.tiers.api import tier_counts
from qilin.tiers.models import TierSnapshot
from qilin.tiers.standards import TIER_CODES, all_standards, resolve
from qilin.web.cockpit import watch_cut
from qilin.web.enterprises import allowed_cities, region_name, standard_name, track_name
from qilin.web.messages import name, t

DIFF_PAGE_SIZE = 50
WATCH_PAGE_SIZE = 20
LEADS_PAGE_SIZE = 20
AUDIT_PAGE_SIZE = 50
SIGNALS_PAGE_SIZE = 50
RECENT_SIGNAL_DAYS = 180
CHANGES = (
    "new_entry", "promotion", "demotion", "graduated_ipo", "aged_out", "acquired", "moved_out", "closed",
    "dropped",
)  # fmt: skip


def pages_of(total: int, size: int) -> int:
    return max(1, -(-total // size))


def parse_date(value: str | None, errors: list[str]) -> dt.date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return parse_iso_date(text)  # strict: "2024-01-01xyz" is not read as 2024-01-01
    except ValueError:
        errors.append(t("audit.bad_date", value=text[:20]))
        return None


def _names(session: Session, ids: Sequence[str]) -> dict[str, tuple[str, str | None, bool]]:
    if not ids:
        return {}
    rows = session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.region_code, Enterprise.is_synthetic).where(
            Enterprise.id.in_(list(ids))
        )
    )
    return {r.id: (r.name, r.region_code, r.is_synthetic) for r in rows}


# ---- tiers ------------------------------------------------------------------------------------------------


def known_filter(name: str, value: str | None, known: Container[str], errors: list[str]) -> str | None:
    """``value`` when it is one of ``known``, else None with a note in ``errors``: a filter silently ignored
    would show the whole list as if it were the filtered one."""
    if value and value not in known:
        errors.append(t("list.ignored", name=name, value=value[:40]))
        return None
    return value or None


def tiers_context(
    session: Session,
    principal: Principal,
    *,
    from_date: str | None,
    to_date: str | None,
    change: str | None,
    page: int,
) -> dict[str, Any]:
    standard = get_settings().default_standard
    available = list(tiers_service.snapshots(session, standard_id=standard))  # newest first
    errors: list[str] = []
    if not available:
        return {"standard": standard, "snapshots": [], "errors": errors}
    latest = available[0]
    counts = tier_counts(session, principal=principal, snapshot=latest)
    city_rows: list[dict[str, Any]] = []
    for city in regions.zhejiang_cities():
        row: dict[str, int] = counts.get(city.code) or dict.fromkeys(TIER_CODES, 0)
        if principal.province_wide or sum(row.values()) > 0:
            city_rows.append({"code": city.code, "name": city.name, "counts": row})
    if sum(counts.get("other", {}).values()):
        city_rows.append({"code": "", "name": t("tiers.other_region"), "counts": counts["other"]})
    totals = {code: sum(int(r["counts"][code]) for r in city_rows) for code in TIER_CODES}

    by_date = {s.as_of.isoformat(): s for s in available}

    def pick(value: str | None, default: TierSnapshot | None) -> TierSnapshot | None:
        if value:
            found = by_date.get(value.strip()[:10])
            if found is not None:
                return found
            errors.append(t("tiers.unknown_snapshot", date=value.strip()[:10]))
        return default

    after = pick(to_date, latest)
    before = pick(from_date, available[1] if len(available) > 1 else None)
    diff: dict[str, Any] | None = None
    if before is not None and after is not None and before.id != after.id:
        entries = tiers_service.diff_snapshots(session, before=before, after=after)
        visible = ids_in_scope(
            session, scope=enterprise_filter(principal), ids=[e.enterprise_id for e in entries]
        )
        entries = [e for e in entries if e.enterprise_id in visible]
        by_change = Counter(e.change for e in entries)
        change = known_filter("change", change, CHANGES, errors)
        # grouped by kind of change, in the order of the counts above the list
        shown = sorted(
            (e for e in entries if change is None or e.change == change),
            key=lambda e: (CHANGES.index(e.change), e.enterprise_id),
        )
        total = len(shown)
        page = min(max(1, page), pages_of(total, DIFF_PAGE_SIZE))
        chunk = shown[(page - 1) * DIFF_PAGE_SIZE : page * DIFF_PAGE_SIZE]
        names = _names(session, [e.enterprise_id for e in chunk])
        diff = {
            "before": before,
            "after": after,
            "change": change,
            "counts": [{"code": c, "name": shared_t(f"diff.{c}"), "count": by_change[c]} for c in CHANGES],
            "total": total,
            "page": page,
            "pages": pages_of(total, DIFF_PAGE_SIZE),
            "rows": [
                {
                    "id": e.enterprise_id,
                    "name": names.get(e.enterprise_id, (e.enterprise_id, None, False))[0],
                    "region": region_name(names.get(e.enterprise_id, ("", None, False))[1]),
                    "is_synthetic": names.get(e.enterprise_id, ("", None, False))[2],
                    "change": shared_t(f"diff.{e.change}"),
                    "change_code": e.change,
                    "from_tier": explain.tier_name(e.from_tier),
                    "to_tier": explain.tier_name(e.to_tier),
                    "reasons": "、".join(explain.reason_text(r) for r in e.reasons),
                }
                for e in chunk
            ],
        }
    return {
        "standard": standard_name(standard, latest.standard_version),
        "snapshots": available,
        "latest": latest,
        "tiers": [(code, explain.tier_name(code)) for code in TIER_CODES],
        "city_rows": city_rows,
        "totals": totals,
        "diff": diff,
        "from_date": before.as_of.isoformat() if before else None,
        "to_date": after.as_of.isoformat() if after else None,
        "errors": errors,
        "changes": [(c, shared_t(f"diff.{c}")) for c in CHANGES],
    }


# ---- discovery --------------------------------------------------------------------------------------------


BACKTEST_SCORERS = ("model", *BASELINES)


def _metric_text(metric: str, interval: dict[str, Any] | None) -> str:
    """``0.198 [0.132, 0.275]``: the point value and its interval (Brier to 5 decimals: all are near 0.01)."""
    if not interval or interval.get("value") is None:
        return "—"
    digits = 5 if metric == "brier" else 2 if metric == "median_lead_years" else 3
    text = f"{interval['value']:.{digits}f}"
    if interval.get("low") is not None and interval.get("high") is not None:
        text += f" [{interval['low']:.{digits}f}, {interval['high']:.{digits}f}]"
    return text


def backtest_table(backtest: dict[str, Any] | None) -> dict[str, Any] | None:
    """The run's model back-test as a table: the model's row first, then the three baselines."""
    if not backtest or not isinstance(backtest.get("scorers"), dict):
        return None
    scorers = backtest["scorers"]
    mode = "discovery.backtest_cv" if backtest.get("mode") == "cv" else "discovery.backtest_other"
    data = backtest.get("data")
    return {
        "data": data.get("zh") if isinstance(data, dict) else None,
        "caption": t(
            "discovery.backtest_caption",
            mode=t(mode),
            as_of=backtest.get("as_of", "—"),
            companies=backtest.get("n_companies", "—"),
            positives=backtest.get("n_positives", "—"),
            horizon=backtest.get("horizon_years", "—"),
        ),
        "metrics": [t(f"discovery.metric.{m}") for m in METRICS],
        "rows": [
            {
                "scorer": t(f"discovery.scorer.{name}"),
                "is_model": name == "model",
                "cells": [_metric_text(m, scorers[name].get(m)) for m in METRICS],
            }
            for name in BACKTEST_SCORERS
            if isinstance(scorers.get(name), dict)
        ],
    }


def discovery_context(
    session: Session,
    principal: Principal,
    *,
    city: str | None,
    page: int,
    kind: str | None = None,
    signals_page: int = 1,
) -> dict[str, Any]:
    financial = principal.can(Permission.financial)
    run = latest_run(session)
    cities = [(c.code, c.name) for c in allowed_cities(principal)]  # an officer's own city only
    errors: list[str] = []
    city = known_filter("city", city, dict(cities), errors)
    kind = known_filter("kind", kind, KIND_NAMES, errors)
    context: dict[str, Any] = {
        "run": run,
        "financial": financial,
        "cities": cities,
        "city": city,
        "kind": kind,
        "kinds": [(code, names[0]) for code, names in KIND_NAMES.items()],
        "errors": errors,
    }
    context["backtest"] = backtest_table(run.backtest) if run is not None else None
    if run is not None:
        total_probe = watch_list(
            session, principal=principal, run=run, region_prefix=city[:4] if city else None, offset=0, limit=0
        )[1]
        pages = pages_of(total_probe, WATCH_PAGE_SIZE)
        page = min(max(1, page), pages)
        items, total = watch_list(
            session,
            principal=principal,
            run=run,
            region_prefix=city[:4] if city else None,
            offset=(page - 1) * WATCH_PAGE_SIZE,
            limit=WATCH_PAGE_SIZE,
        )
        for item in items:
            item["region"] = region_name(item["region_code"])
        context.update(
            items=items,
            total=total,
            page=page,
            pages=pages,
            watch_cut=watch_cut(run.enterprises),
            model=model_label(run.model_version),
        )
    if financial:
        since = today() - dt.timedelta(days=RECENT_SIGNAL_DAYS)
        # the page's city filter holds for the signals too; a kind narrows them
        found = recent_signals(
            session, since=since, enterprise_ids=scoped_ids(session, principal, region=city)
        )
        found = [s for s in found if kind is None or s.kind == kind]
        signals_pages = pages_of(len(found), SIGNALS_PAGE_SIZE)
        signals_page = min(max(1, signals_page), signals_pages)
        first = (signals_page - 1) * SIGNALS_PAGE_SIZE
        context["signals"] = [
            {
                "on": s.on.isoformat(),
                "enterprise_id": s.enterprise_id,
                "name": s.enterprise_name,
                "is_synthetic": s.is_synthetic,
                "kind": KIND_NAMES.get(s.kind, (s.kind, s.kind))[0],
                "text": s.description_zh,
            }
            for s in found[first : first + SIGNALS_PAGE_SIZE]
        ]
        context.update(signals_total=len(found), signals_page=signals_page, signals_pages=signals_pages)
        context["since"] = since.isoformat()
    return context


# ---- standards --------------------------------------------------------------------------------------------


def standards_context() -> dict[str, Any]:
    default = get_settings().default_standard
    now = today()
    current_keys = set()
    for standard_id in {s.id for s in all_standards()}:
        try:
            current_keys.add(resolve(standard_id, now)[0].key)
        except LookupError:
            continue
    standards = [
        {
            "key": s.key,
            "id": s.id,
            "version": s.version,
            "name": s.name_zh,
            "name_en": s.name_en,
            "source": s.source,
            "effective_from": s.effective_from.isoformat(),
            "effective_to": s.effective_to.isoformat() if s.effective_to else None,
            "is_default": s.id == default,
            "is_current": s.key in current_keys,
            "tiers": [
                {
                    "tier": rule.tier,
                    "name": explain.tier_name(rule.tier),
                    "routes": [
                        [explain.criterion_text(c.name, c.param) for c in route]
                        for route in rule.alternatives
                    ],
                }
                for rule in s.tiers
            ],
        }
        for s in sorted(all_standards(), key=lambda s: (s.id != default, s.id, -s.version))
    ]
    return {"standards": standards}


# ---- leads ------------------------------------------------------------------------------------------------


def leads_context(
    session: Session, principal: Principal, *, status: str | None, page: int, channel: str | None = None
) -> dict[str, Any]:
    errors: list[str] = []
    status = known_filter("status", status, STATES, errors)
    channel = known_filter("channel", channel, CHANNELS, errors)
    total = list_leads(session, principal=principal, status=status, channel=channel, offset=0, limit=0)[1]
    pages = pages_of(total, LEADS_PAGE_SIZE)
    page = min(max(1, page), pages)
    items, total = list_leads(
        session,
        principal=principal,
        status=status,
        channel=channel,
        offset=(page - 1) * LEADS_PAGE_SIZE,
        limit=LEADS_PAGE_SIZE,
    )
    # the enterprise an accepted lead went into, by name, when the user may open it (a recommender may not)
    accepted = [item["enterprise_id"] for item in items if item["enterprise_id"]]
    readable: dict[str, str] = {}
    if accepted and principal.can(Permission.read_registry):
        in_scope = Enterprise.id.in_(accepted), enterprise_filter(principal)
        readable = dict(
            session.execute(select(Enterprise.id, Enterprise.name).where(*in_scope)).tuples().all()
        )
    for item in items:
        item["region"] = region_name(item["region_code"])
        item["status_name"] = shared_t(f"leads.state.{item['status']}")
        item["track_names"] = "、".join(track_name(c) for c in item["tracks"] or [])
        item["enterprise_name"] = readable.get(item["enterprise_id"] or "")
    report = None
    own = principal.organization if principal.role is Role.recommender else None
    if principal.province_wide or own:  # a recommending institution sees its own hit rate only
        report = [
            {
                "name": s.name,
                "kind": SHARED.name("leads.kind", s.kind),
                "leads": s.leads,
                "accepted": s.accepted,
                "entered_tier": s.entered_tier,
                "unicorns": s.unicorns,
                "accepted_rate": s.rate(s.accepted),
                "tier_rate": s.rate(s.entered_tier),
                "unicorn_rate": s.rate(s.unicorns),
            }
            for s in leads_service.recommender_report(session)
            if own is None or s.name == own
        ]
    return {
        "items": items,
        "total": total,
        "page": page,
        "pages": pages,
        "status": status,
        "states": [(s, shared_t(f"leads.state.{s}")) for s in STATES],
        "channel": channel,
        "errors": errors,
        "report": report,
        "can_open": principal.can(Permission.read_registry),
        "can_submit": principal.can(Permission.submit_leads),
        "own_name": principal.organization if principal.role is Role.recommender else None,
        "channels": [
            (code, leads_service.channel_label(code))
            for code in CHANNELS
            if code != "ai_discovery" or principal.role is not Role.recommender
        ],
    }


def _reason(issue: ImportIssue) -> str:
    return f"{issue.reason('zh')} / {issue.reason('en')}"


def import_outcome(report: leads_service.LeadImportReport, principal: Principal) -> dict[str, Any]:
    """A lead file's import for the page: counts, every issue (line, column, value, reason in Chinese) and
    each row's lead. Registry matches and name suggestions only for a viewer who may read the registry; a
    recommender learns nothing of the registry or of other institutions' leads from it."""
    registry = principal.can(Permission.read_registry)
    return {
        "file": report.file,
        "refused": report.refused,
        "read": report.read,
        "added": report.added,
        "existing": report.existing,
        "issues": [
            {"line": i.line, "column": i.column or "", "value": i.value or "", "reason": _reason(i)}
            for i in report.issues
        ],
        "rows": [
            {
                "line": o.line,
                "lead_id": o.lead_id,
                "name": o.name,
                "added": o.added,
                "matched": o.matched_enterprise_id if registry else None,
                "suggestions": [s.name for s in o.suggestions] if registry else [],
            }
            for o in report.outcomes
        ],
    }


def lead_context(session: Session, principal: Principal, lead_id: int) -> dict[str, Any] | None:
    """One lead (线索详情) for the page, or None when it is not in the viewer's scope (the page answers 404).

    Name suggestions and linked enterprises are shown only when the viewer may read those enterprises (a
    recommender sees its own lead's facts and history, not the registry); the form's next states only to a
    role that processes leads."""
    if lead_in_scope(session, principal, lead_id) is None:
        return None
    v = leads_service.view(session, lead_id=lead_id)
    lead = v.lead
    readable: set[str] = set()
    if principal.can(Permission.read_registry):
        ids = [s.id for s in v.suggestions if s.kind == "enterprise"]
        ids += [i for i in (lead.matched_enterprise_id, lead.enterprise_id) if i]
        readable = ids_in_scope(session, scope=enterprise_filter(principal), ids=ids)
    other_leads = [int(s.id) for s in v.suggestions if s.kind == "lead"] + [lead.duplicate_of_id or 0]
    seen = select(Lead.id).where(Lead.id.in_(other_leads), lead_filter(principal))
    visible_leads = {str(i) for i in session.scalars(seen)}
    suggestions = [
        {"kind": s.kind, "id": s.id, "name": s.name, "score": s.score}
        for s in v.suggestions
        if (s.kind == "enterprise" and s.id in readable) or (s.kind == "lead" and s.id in visible_leads)
    ]
    can_process = principal.can(Permission.process_leads)
    return {
        "lead": lead,
        "recommender": v.recommender.name,
        "channel_name": leads_service.channel_label(lead.channel),
        "status_name": shared_t(f"leads.state.{lead.status}"),
        "region": region_name(lead.region_code),
        "track_names": "、".join(track_name(c) for c in lead.tracks or []),
        "submitted": sorted(lead.submitted.items()),
        # the enterprise holding the lead's USCC: for those who read the registry (a recommender is not told)
        "matched": (lead.matched_enterprise_id, v.matched_name, lead.matched_enterprise_id in readable)
        if lead.matched_enterprise_id and principal.can(Permission.read_registry)
        else None,
        "enterprise": (lead.enterprise_id, v.enterprise_name, lead.enterprise_id in readable)
        if lead.enterprise_id
        else None,
        "suggestions": suggestions,
        # another lead with the same USCC, when the viewer may see it (not another institution's)
        "duplicate_of": lead.duplicate_of_id if str(lead.duplicate_of_id) in visible_leads else None,
        "transitions": [
            {
                "at": local_time(tr.at),
                "from": shared_t(f"leads.state.{tr.from_state}"),
                "to": shared_t(f"leads.state.{tr.to_state}"),
                "actor": tr.actor,
                "comment": tr.comment or "",
                "enterprise_id": tr.enterprise_id,
            }
            for tr in v.transitions
        ],
        "can_process": can_process,
        "next_states": [  # forward moves first: verify, accept, reject; sending back last
            (code, shared_t(f"leads.state.{code}"))
            for code in sorted(v.allowed_next, key=("verifying", "accepted", "rejected", "new").index)
        ]
        if can_process
        else [],
    }


# ---- audit ------------------------------------------------------------------------------------------------


def _changes(entry: AuditEntry) -> list[str]:
    old, new = entry.old or {}, entry.new or {}
    lines = []
    for key in list(dict.fromkeys([*old, *new])):
        before = json.dumps(old.get(key), ensure_ascii=False) if key in old else "—"
        after = json.dumps(new.get(key), ensure_ascii=False) if key in new else "—"
        lines.append(f"{name('audit.field', key)}：{before} → {after}")
    return lines


def model_label(version: str) -> str:
    """A model version for people: "2013-10-01+sha256:6a509c4de850c279" reads 训练截至 2013-10-01，版本
    6a509c4d; another form is shown as it is."""
    as_of, sep, digest = version.partition("+sha256:")
    return t("discovery.model", as_of=as_of, digest=digest[:8]) if sep else version


def audit_context(
    session: Session,
    *,
    actor: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    page: int,
) -> dict[str, Any]:
    errors: list[str] = []
    actor = (actor or "").strip()[:100] or None
    action = (action or "").strip()[:60] or None
    since_date = parse_date(since, errors)
    until_date = parse_date(until, errors)
    if since_date is not None and until_date is not None and since_date > until_date:
        errors.append(t("audit.reversed", since=since_date.isoformat(), until=until_date.isoformat()))
    filters: dict[str, Any] = {"actor": actor, "action": action, "since": since_date, "until": until_date}
    total = audit_service.list_(session, **filters, offset=0, limit=0)[1]
    pages = pages_of(total, AUDIT_PAGE_SIZE)
    page = min(max(1, page), pages)
    rows, total = audit_service.list_(
        session, **filters, offset=(page - 1) * AUDIT_PAGE_SIZE, limit=AUDIT_PAGE_SIZE
    )
    actions = sorted(set(session.scalars(select(AuditEntry.action).distinct())))
    return {
        "entries": [
            {
                "at": local_time(e.at) if e.at else "",
                "actor": e.actor,
                "channel": name("audit.channel", e.channel),
                "action": e.action,
                "action_name": name("audit.action", e.action),
                "subject": " ".join(
                    x for x in (name("audit.subject", e.subject_type), str(e.subject_id or "")) if x
                ),
                "enterprise_id": e.subject_id if e.subject_type == "enterprise" else None,
                "changes": _changes(e),
                "address": e.source_address,
            }
            for e in rows
        ],
        "total": total,
        "page": page,
        "pages": pages,
        "actions": [(a, name("audit.action", a)) for a in actions],
        "filters": {
            "actor": actor or "",
            "action": action or "",
            "since": since_date.isoformat() if since_date else "",
            "until": until_date.isoformat() if until_date else "",
        },
        "errors": errors,
    }
