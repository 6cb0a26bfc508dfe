"""The AI discovery channel (AI 发现渠道): a run's watch-list put forward as leads.

The action plan lists AI discovery among the channels that put candidates forward. Here the platform
itself is that channel's recommender (:data:`AI_RECOMMENDER`, kind ``platform``). Its leads go through the
same verification as every other channel's, and :func:`qilin.discovery.leads.recommender_report` measures
its hit rate beside the human recommenders'.

:func:`push_watch_list` takes the best-ranked enterprises of a discovery run and skips those already in a
cultivation tier (they need no discovering). It writes the rest as a lead file and imports it through
:func:`qilin.discovery.leads.import_leads`, so the USCC match and name suggestions are the import's.
Each lead is dated on the run's as-of date, carries the enterprise's region and tracks, and notes its rank
and reasons. Pushing the same run again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from qilin.discovery import leads as leads_service
from qilin.discovery.runs import RunError
from qilin.discovery.runs_models import DiscoveryRun, DiscoveryScore
from qilin.reference import tracks
from qilin.registry.models import Enterprise
from qilin.tiers.service import tiered_ids

__all__ = ["AI_RECOMMENDER", "AiLeads", "push_watch_list"]

AI_RECOMMENDER = "麒麟智能发现"  # the platform, as the AI channel's recommender
MAX_TOP = 1000


@dataclass(frozen=True, slots=True)
class AiLeads:
    """What one push did: the run, how many of its best it considered, the leads it added (lead id,
    enterprise id, rank), how many had been pushed before and how many were already in a tier."""

    run_id: int
    as_of: str
    considered: int
    added: list[tuple[int, str, int]]
    existing: int
    tiered: int


def push_watch_list(session: Session, *, top: int, actor: str, run_id: int | None = None) -> AiLeads:
    """Put the ``top`` best-ranked enterprises of run ``run_id`` (default: the latest run) forward as AI
    discovery leads, except those in a tier in the latest snapshot on or before the run's date."""
    if not 1 <= top <= MAX_TOP:
        raise RunError("discover.top_range", max=MAX_TOP, value=top)
    if run_id is not None:
        run = session.get(DiscoveryRun, run_id)
        if run is None:
            raise RunError("discover.no_run", run_id=run_id)
    else:
        latest = select(DiscoveryRun).order_by(DiscoveryRun.as_of.desc(), DiscoveryRun.id.desc()).limit(1)
        run = session.scalars(latest).first()
        if run is None:
            raise RunError("discover.no_runs")
    best = session.execute(
        select(Enterprise, DiscoveryScore.rank, DiscoveryScore.reasons)
        .join(DiscoveryScore, DiscoveryScore.enterprise_id == Enterprise.id)
        .where(DiscoveryScore.run_id == run.id)
        .order_by(DiscoveryScore.rank)
        .limit(top)
    ).all()
    tiered = tiered_ids(session, on_or_before=run.as_of, ids=[e.id for e, _, _ in best])
    seen: set[str] = set()
    chosen = []
    for e, rank, reasons in best:  # one lead per firm: two enterprises of one name and no USCC are one
        identity = e.uscc or f"name:{leads_service.name_key(e.name)}"
        if e.id not in tiered and identity not in seen:
            seen.add(identity)
            chosen.append((e, rank, reasons))
    rows = [
        {
            "channel": "ai_discovery",
            "recommender": AI_RECOMMENDER,
            "recommender_kind": "platform",
            "name": e.name,
            "name_en": e.name_en or "",
            "uscc": e.uscc or "",
            "region_code": e.region_code or "",
            "founded_on": e.founded_on.isoformat() if e.founded_on else "",
            # its tracks (赛道) the taxonomy still knows: an unknown one would refuse the whole file
            "tracks": ";".join(sorted(t.track_code for t in e.tracks if tracks.resolve(t.track_code))),
            "submitted_on": run.as_of.isoformat(),
            "note": _note(rank, reasons, run),
        }
        for e, rank, reasons in chosen
    ]
    if not rows:
        return AiLeads(run.id, run.as_of.isoformat(), len(best), [], 0, len(tiered))
    report = leads_service.import_rows(session, rows, file=f"ai-discovery-run-{run.id}.csv", actor=actor)
    if report.refused:  # the registry's own records failed a lead check: say which, change nothing
        zh, en = ("; ".join(i.message(lang) for i in report.issues[:3]) for lang in ("zh", "en"))
        raise RunError("discover.leads_refused", detail_zh=zh, detail_en=en)
    pushed = [(e.id, rank) for e, rank, _ in chosen]  # in the file's order, from line 2
    added = [(o.lead_id, *pushed[o.line - 2]) for o in report.outcomes if o.added]
    return AiLeads(run.id, run.as_of.isoformat(), len(best), added, report.existing, len(tiered))


def _note(rank: int, reasons: dict[str, list[str]], run: DiscoveryRun) -> str:
    said = "；".join(reasons.get("zh") or []) or "无突出信号"
    note = f"AI 发现：运行 {run.id}（截至 {run.as_of.isoformat()}）第 {rank} 名。{said}"
    return note[: leads_service.NOTE_MAX]
