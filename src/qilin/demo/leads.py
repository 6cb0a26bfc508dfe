"""Demo leads (演示线索, 模拟数据): a few dozen leads from six channels, so the leads page, the recommenders'
hit rates and the cockpit's lead counts show the workflow on a first run.

They go through the real path: a CSV written to a temporary folder and read by
:func:`qilin.discovery.leads.import_leads` (USCC matching, name suggestions); the AI channel's are the
discovery run's watch-list pushed by :func:`qilin.discovery.ai_leads.push_watch_list`. Then they are moved
through the workflow by :func:`qilin.discovery.leads.advance`. Every one is marked ``is_synthetic`` and its
note says so; the human recommenders' names end in （演示）. Nothing here is a real recommendation.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from qilin.discovery import leads as leads_service
from qilin.discovery.ai_leads import push_watch_list
from qilin.discovery.leads_models import Lead
from qilin.discovery.runs_models import DiscoveryRun
from qilin.reference import regions
from qilin.registry.models import Enterprise, EnterpriseTrack
from qilin.tiers.service import tiered_ids

# The demo recommender account (DEMO_ACCOUNTS) belongs to this institution and sees its leads.
DEMO_FUND_ASSOCIATION = "浙江省创业投资协会（演示）"
# (channel, recommender, kind of institution, leads of registry enterprises, leads of firms not in it)
DEMO_RECOMMENDERS: tuple[tuple[str, str, str, int, int], ...] = (
    ("tech_plan", "浙江省科学技术厅（演示）", "government", 6, 2),
    ("university", "浙江大学（演示）", "university", 4, 3),
    ("leading_fund", DEMO_FUND_ASSOCIATION, "association", 6, 2),
    ("startup_contest", "浙江省创新创业大赛组委会（演示）", "government", 3, 4),
    ("third_party", "某产业研究院（演示）", "consultancy", 4, 2),
)
AI_TOP = 12  # the discovery run's best-ranked: those not in a tier are pushed as AI discovery leads
NOTE = "模拟数据（演示线索）/ synthetic demo lead"
OFFICER = "浙江省经信厅（演示）"
_WORDS = "澜启睿芯曜衡数拓星禾云栖若谷青鸾智源知行"
_TRADES = {  # a made-up firm's trade, and the track (赛道) its recommender puts it in
    "智能": "ai",
    "生物": "biomedicine",
    "储能": "new_energy_storage",
    "半导体": "integrated_circuits",
    "机器人": "humanoid_robots",
    "数字科技": "metaverse",
}


def build_demo_leads(session: Session, *, today: dt.date, seed: int) -> int:
    """Import and move the demo leads; returns how many were made (none when any lead exists already)."""
    if session.scalar(select(func.count()).select_from(Lead)):
        return 0
    rng = random.Random(seed)
    candidates = session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.uscc, Enterprise.region_code)
        .where(Enterprise.is_synthetic, Enterprise.uscc.is_not(None), Enterprise.region_code.is_not(None))
        .order_by(Enterprise.id)
    ).all()
    tracks_of: dict[str, list[str]] = {}
    for eid, code in session.execute(select(EnterpriseTrack.enterprise_id, EnterpriseTrack.track_code)):
        tracks_of.setdefault(eid, []).append(code)
    tiered = tiered_ids(session)
    promising = [c for c in candidates if c.id in tiered]  # recommenders tend to put forward tiered firms
    counties = [r.code for r in regions.zhejiang_counties()]
    rows: list[dict[str, str]] = []
    used: set[str] = set()
    taken = {leads_service.name_key(c.name) for c in candidates}  # made-up names differ from these
    for channel, recommender, kind, known, unknown in DEMO_RECOMMENDERS:
        good = [c for c in promising if c.id not in used]
        picked = rng.sample(good, min(known // 2, len(good)))
        rest = [c for c in candidates if c.id not in used and c not in picked]
        picked += rng.sample(rest, min(known - len(picked), len(rest)))
        used.update(c.id for c in picked)
        firms = [(c.name, c.uscc or "", c.region_code or "", sorted(tracks_of.get(c.id, []))) for c in picked]
        for _ in range(unknown):
            name, track = _new_name(rng, taken)
            firms.append((name, "", rng.choice(counties), [track]))
        for name, code, region, tracks in firms:
            submitted = today - dt.timedelta(days=rng.randint(20, 540))
            rows.append(
                {"channel": channel, "recommender": recommender, "recommender_kind": kind, "name": name,
                 "uscc": code, "region_code": region, "tracks": ";".join(tracks),
                 "submitted_on": submitted.isoformat(), "note": NOTE}
            )  # fmt: skip
    report = leads_service.import_rows(session, rows, file="演示线索.csv", actor="demo")
    if report.refused:
        raise RuntimeError("; ".join(i.message("en") for i in report.issues[:5]))
    ids = [o.lead_id for o in report.outcomes]
    session.execute(update(Lead).where(Lead.id.in_(ids)).values(is_synthetic=True))
    if session.scalar(select(DiscoveryRun.id).limit(1)) is not None:
        pushed = [lead_id for lead_id, _, _ in push_watch_list(session, top=AI_TOP, actor="demo").added]
        for lead_id in pushed:
            lead = session.get_one(Lead, lead_id)
            lead.is_synthetic, lead.note = True, f"{NOTE}。{lead.note}"
        ids += pushed
    for lead_id in ids:
        _move(session, rng, session.get_one(Lead, lead_id))
    return len(ids)


def _new_name(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A made-up firm, not in the registry and not made up before (``taken``, by normalised name): a
    Zhejiang city, two words and a trade; and the trade's track."""
    while True:
        city = rng.choice(regions.zhejiang_cities()).name.removesuffix("市")
        trade = rng.choice(list(_TRADES))
        name = f"{city}{rng.choice(_WORDS)}{rng.choice(_WORDS)}{trade}科技有限公司"
        if leads_service.name_key(name) not in taken:
            taken.add(leads_service.name_key(name))
            return name, _TRADES[trade]


def _move(session: Session, rng: random.Random, lead: Lead) -> None:
    """Move a lead along the workflow: a registry enterprise's lead is often accepted; a firm not in the
    registry is verified or turned down, never accepted (accepting needs a registry enterprise)."""
    draw = rng.random()
    if lead.matched_enterprise_id is not None:
        steps = ["verifying", "accepted"] if draw < 0.5 else ["verifying", "rejected"] if draw < 0.65 else []
        if not steps and draw < 0.85:
            steps = ["verifying"]
        reason = "经核实，暂不符合本年度培育方向（演示）"
    else:
        steps = ["verifying", "rejected"] if draw < 0.3 else ["verifying"] if draw < 0.6 else []
        reason = "企业信息无法核实（演示）"
    for step in steps:
        leads_service.advance(
            session,
            lead_id=lead.id,
            to_state=step,
            actor=OFFICER,
            comment=reason if step == "rejected" else None,
        )
