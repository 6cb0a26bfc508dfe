"""The enterprise pages' data: the list (企业库) with its filters, and the profile (企业画像).

Everything goes through the viewer's scope (:func:`qilin.auth.scope.enterprise_filter`) and reuses the
registry, tier and discovery services; money is shown only to roles with the ``financial`` permission.

The valuation range filter (``min_valuation``/``max_valuation``, in 亿元) is applied in Python: the latest
valuation record of every enterprise inside the scope (the one the profile shows: latest ``as_of``, then
latest id) is converted to yuan at the yearly average rate of its own date (the tier evaluator's rule), and
the ids inside the range are added to the scope condition of the ordinary search. It is offered to
financial roles only (valuations are financial figures); for others it is ignored with a note. An
enterprise without a valuation, or whose currency has no rate, never matches a range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from qilin.auth.roles import Permission
from qilin.auth.scope import Principal, enterprise_filter
from qilin.common.dates import today
from qilin.common.messages import name as shared_name
from qilin.common.messages import t as shared_t
from qilin.common.money import YI, Money, format_cn
from qilin.config import get_settings
from qilin.discovery.api import enterprise_score, recent_signals
from qilin.discovery.signals import KIND_NAMES
from qilin.reference import industries, regions, tracks
from qilin.reference.fx import NoRateError
from qilin.registry import profile, search
from qilin.registry.models import Enterprise, Valuation
from qilin.registry.package import ROUND_TYPES
from qilin.tiers import service as tiers_service
from qilin.tiers.api import enterprise_trace, tier_history
from qilin.tiers.explain import tier_name
from qilin.tiers.models import TierSnapshot
from qilin.tiers.standards import TIER_CODES, UnknownStandardError, all_standards
from qilin.web.messages import t

PAGE_SIZE = 20
Q_MAX = 100
SIGNAL_DAYS = 730


# ---- labels -----------------------------------------------------------------------------------------------


def track_name(code: str) -> str:
    track = tracks.all_tracks().get(code)
    return track.name_zh if track else code


def stage_name(code: str | None) -> str:
    return shared_t(f"round_type.{code}") if code in ROUND_TYPES else (code or "—")


def region_name(code: str | None) -> str:
    if not code:
        return "—"
    region = regions.get(code)
    if region is None:
        return code
    city = regions.city_of(code)
    if city is not None and city.code != region.code:
        return f"{city.name} {region.name}"
    return region.name


def standard_name(standard_id: str, version: int | None = None) -> str:
    """A standard's Chinese name (of ``version`` when given), its id when unknown."""
    for standard in all_standards():
        if standard.id == standard_id and (version is None or standard.version == version):
            return standard.name_zh
    return standard_id


def evidence_name(code: str) -> str:
    return shared_name("evidence", code)


def status_name(code: str) -> str:
    return shared_name("status", code)


def event_name(code: str) -> str:
    return shared_name("event", code)


# ---- valuations in yuan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestValuation:
    """An enterprise's latest valuation and its value in yuan at the valuation date's yearly rate."""

    enterprise_id: str
    as_of: dt.date
    value: Money
    evidence: str
    cny: Money | None
    fx_year: int | None  # the rate's year when a conversion was made (None: yuan, or no rate)
    fx_text: str | None

    @property
    def text(self) -> str:
        return format_cn(self.value)

    @property
    def cny_text(self) -> str | None:
        return format_cn(self.cny) if self.cny is not None else None

    @property
    def cny_yi(self) -> Decimal | None:
        return (self.cny.amount / YI).quantize(Decimal("0.0001")) if self.cny is not None else None


def in_yuan(value: Money, on: dt.date) -> tuple[Money | None, int | None, str | None]:
    """``value`` in yuan at ``on``'s yearly average; (None, None, None) without a rate."""
    if value.currency == "CNY":
        return value, None, None
    try:
        conversion = value.convert("CNY", on=on)
    except (NoRateError, ValueError):
        return None, None, None
    return conversion.result, conversion.quote.rate_year, conversion.quote.describe("zh")


def latest_valuations(
    session: Session, *, scope: ColumnElement[bool], ids: Sequence[str] | None = None
) -> dict[str, LatestValuation]:
    """The latest valuation of each enterprise inside ``scope`` (of ``ids`` when given)."""
    query = (
        select(
            Valuation.enterprise_id,
            Valuation.as_of,
            Valuation.id,
            Valuation.value,
            Valuation.currency,
            Valuation.evidence,
        )
        .join(Enterprise, Enterprise.id == Valuation.enterprise_id)
        .where(scope)
        .order_by(Valuation.enterprise_id, Valuation.as_of, Valuation.id)
    )
    if ids is not None:
        if not ids:
            return {}
        query = query.where(Valuation.enterprise_id.in_(list(ids)))
    rows: dict[str, Any] = {}
    for row in session.execute(query):
        rows[row.enterprise_id] = row  # ordered by date: the last one wins
    out: dict[str, LatestValuation] = {}
    for eid, row in rows.items():
        try:
            value = Money.of(row.value, row.currency)
        except ValueError:
            continue
        cny, year, text = in_yuan(value, row.as_of)
        out[eid] = LatestValuation(eid, row.as_of, value, row.evidence, cny, year, text)
    return out


# ---- the list's query -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """The list's filters as understood (unknown values dropped, with a note in ``errors``)."""

    city: str | None = None
    county: str | None = None
    track: str | None = None
    tier: str | None = None
    stage: str | None = None
    q: str | None = None
    sort: str = "tier"
    min_valuation: Decimal | None = None  # 亿元
    max_valuation: Decimal | None = None
    page: int = 1
    errors: tuple[str, ...] = ()

    @property
    def region(self) -> str | None:
        return self.county or self.city

    @property
    def valuation_filtered(self) -> bool:
        return self.min_valuation is not None or self.max_valuation is not None

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for links: pages, the export)."""
        values: dict[str, Any] = {
            "city": self.city,
            "county": self.county,
            "track": self.track,
            "tier": self.tier,
            "stage": self.stage,
            "q": self.q,
            "sort": self.sort if self.sort != "tier" else None,
            "min_valuation": self.min_valuation,
            "max_valuation": self.max_valuation,
        }
        return {k: str(v) for k, v in values.items() if v is not None and v != ""}

    def describe(self) -> str:
        """The filters in words (the export's notes)."""
        parts = []
        if self.region:
            parts.append(f"{t('list.region')}：{region_name(self.region)}")
        if self.track:
            parts.append(f"{t('list.track')}：{track_name(self.track)}")
        if self.tier:
            parts.append(f"{t('list.tier')}：{tier_name(self.tier)}")
        if self.stage:
            parts.append(f"{t('list.stage')}：{stage_name(self.stage)}")
        if self.q:
            parts.append(f"“{self.q}”")
        if self.valuation_filtered:
            low = self.min_valuation if self.min_valuation is not None else 0
            high = self.max_valuation if self.max_valuation is not None else "∞"
            parts.append(f"{t('list.valuation_range')}：{low}–{high}")
        return "；".join(parts) or t("common.all")


def _clean(value: str | None, limit: int = 40) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] if value else None


def _amount(value: str | None, errors: list[str]) -> Decimal | None:
    text = _clean(value)
    if text is None:
        return None
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:
        errors.append(t("list.bad_number", value=text))
        return None
    if not amount.is_finite() or amount < 0 or amount > Decimal(10) ** 9:
        errors.append(t("list.bad_number", value=text))
        return None
    return amount.normalize() if amount == amount.to_integral() else amount


def allowed_cities(principal: Principal) -> list[regions.Region]:
    """Zhejiang's cities the viewer may filter by (all for province-wide roles, its own for officers)."""
    cities = regions.zhejiang_cities()
    if principal.province_wide:
        return cities
    prefix = principal.region_prefix()
    if prefix is None:
        return []
    return [c for c in cities if c.code[:4] == prefix[:4]]


def allowed_counties(principal: Principal) -> list[regions.Region]:
    counties = regions.zhejiang_counties()
    if principal.province_wide:
        return counties
    prefix = principal.region_prefix()
    if prefix is None:
        return []
    return [c for c in counties if c.code.startswith(prefix)]


def parse_list_query(raw: Mapping[str, str | None], principal: Principal, page: int = 1) -> ListQuery:
    """The list's filters from the query string: unknown values dropped, each with a note in ``errors`` (a
    filter silently ignored would show the whole list as if it were the filtered one)."""
    errors: list[str] = []

    def known(name: str, value: str | None, ok: bool) -> str | None:
        if value is not None and not ok:
            errors.append(t("list.ignored", name=name, value=value))
            return None
        return value

    city = _clean(raw.get("city"), 6)
    city = known("city", city, city in {c.code for c in regions.zhejiang_cities()})
    county = _clean(raw.get("county"), 6)
    county_region = regions.get(county) if county else None
    county = known(
        "county",
        county,
        county_region is not None and county_region.level == "county" and county_region.in_zhejiang,
    )
    if county is not None and city is not None and county_region and county_region.parent_code != city:
        errors.append(t("list.bad_county"))
        county = None
    track = _clean(raw.get("track"))
    track = known("track", track, track in tracks.all_tracks())
    tier = _clean(raw.get("tier"))
    tier = known("tier", tier, tier in TIER_CODES)
    stage = _clean(raw.get("stage"))
    stage = known("stage", stage, stage in ROUND_TYPES)
    q = _clean(raw.get("q"), Q_MAX)
    sort = known("sort", _clean(raw.get("sort")), _clean(raw.get("sort")) in search.SORTS) or "tier"
    low = _amount(raw.get("min_valuation"), errors)
    high = _amount(raw.get("max_valuation"), errors)
    if (low is not None or high is not None) and not principal.can(Permission.financial):
        errors.append(t("list.valuation_not_allowed"))
        low = high = None
    if low is not None and high is not None and low > high:
        errors.append(t("list.bad_range"))
        low = high = None
    return ListQuery(
        city=city,
        county=county,
        track=track,
        tier=tier,
        stage=stage,
        q=q,
        sort=sort,
        min_valuation=low,
        max_valuation=high,
        page=max(1, page),
        errors=tuple(errors),
    )


# ---- the list ---------------------------------------------------------------------------------------------


@dataclass
class ListResult:
    items: list[search.ListItem]
    total: int
    page: int
    pages: int
    snapshot: TierSnapshot | None
    valuations: dict[str, LatestValuation] = field(default_factory=dict)


def current_snapshot(session: Session) -> TierSnapshot | None:
    return tiers_service.latest_snapshot(session, standard_id=get_settings().default_standard)


def list_scope(session: Session, principal: Principal, query: ListQuery) -> ColumnElement[bool]:
    """The viewer's scope, narrowed to the valuation range when one is set (see the module's notes)."""
    scope = enterprise_filter(principal)
    if not query.valuation_filtered:
        return scope
    low = (query.min_valuation or Decimal(0)) * YI
    high = query.max_valuation * YI if query.max_valuation is not None else None
    matching = [
        eid
        for eid, v in latest_valuations(session, scope=scope).items()
        if v.cny is not None and v.cny.amount >= low and (high is None or v.cny.amount <= high)
    ]
    return and_(scope, Enterprise.id.in_(matching))


def list_page(
    session: Session,
    principal: Principal,
    query: ListQuery,
    *,
    page_size: int = PAGE_SIZE,
    page: int | None = None,
    scope: ColumnElement[bool] | None = None,
    snapshot: TierSnapshot | None = None,
    max_page_size: int = search.MAX_PAGE_SIZE,
) -> ListResult:
    snapshot = snapshot if snapshot is not None else current_snapshot(session)
    scope = scope if scope is not None else list_scope(session, principal, query)

    def run(number: int) -> search.Page:
        return search.search(
            session,
            scope=scope,
            filters=search.EnterpriseFilters(
                region=query.region, track=query.track, tier=query.tier, stage=query.stage, q=query.q
            ),
            snapshot_id=snapshot.id if snapshot else None,
            snapshot_as_of=snapshot.as_of if snapshot else None,
            sort=query.sort,
            page=number,
            page_size=page_size,
            # Totals are reused while paging, except when the scope was narrowed by a valuation range.
            count_key=None
            if query.valuation_filtered
            else ("page", principal.role, principal.region_code, principal.enterprise_id),
            scope_region=principal.region_prefix(),
            max_page_size=max_page_size,
        )

    result = run(page or query.page)
    last = max(1, -(-result.total // result.page_size))
    if not result.items and result.page > last:  # past the end (an old link): show the last page
        result = run(last)
    valuations: dict[str, LatestValuation] = {}
    if principal.can(Permission.financial) and result.items:
        valuations = latest_valuations(
            session, scope=enterprise_filter(principal), ids=[i.id for i in result.items]
        )
    pages = max(1, -(-result.total // result.page_size))
    return ListResult(result.items, result.total, result.page, pages, snapshot, valuations)


def filter_options(principal: Principal) -> dict[str, Any]:
    """The choices of the filter form."""
    cities = allowed_cities(principal)
    counties = allowed_counties(principal)
    city_names = {c.code: c.name for c in regions.zhejiang_cities()}
    grouped: dict[str, list[tuple[str, str]]] = {}
    for county in counties:
        grouped.setdefault(county.parent_code or "", []).append((county.code, county.name))
    by_group: dict[str, list[tuple[str, str]]] = {}
    for track in tracks.all_tracks().values():
        by_group.setdefault(track.group, []).append((track.code, track.name_zh))
    return {
        "cities": [(c.code, c.name) for c in cities],
        "counties": [(city_names.get(code, code), code, items) for code, items in grouped.items()],
        "tracks": [(t(f"track_group.{g}"), items) for g, items in by_group.items()],
        "tiers": [(code, tier_name(code)) for code in TIER_CODES],
        "stages": [(code, stage_name(code)) for code in ROUND_TYPES],
        "sorts": [(code, t(f"sort.{code}")) for code in search.SORTS],
    }


# ---- the profile ------------------------------------------------------------------------------------------


def get_enterprise(session: Session, principal: Principal, enterprise_id: str) -> Enterprise | None:
    try:
        return profile.get_in_scope(session, enterprise_id=enterprise_id, scope=enterprise_filter(principal))
    except profile.NotFound:
        return None


def _trace_rows(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """The trace flattened to one row per criterion, under its tier and route."""
    rows = []
    for check in trace["checks"]:
        routes = check["routes"]
        first_of_tier = True
        for n, route in enumerate(routes, start=1):
            for i, criterion in enumerate(route["criteria"]):
                rows.append(
                    {
                        "tier": check["tier"],
                        "tier_name": check["tier_name"],
                        "tier_passed": check["passed"],
                        "first_of_tier": first_of_tier,
                        "route": n if len(routes) > 1 else None,
                        "route_passed": route["passed"],
                        "first_of_route": i == 0,
                        **criterion,
                    }
                )
                first_of_tier = False
    return rows


def _before(day: dt.date, founded_on: dt.date | None) -> bool:
    """Whether a snapshot's day precedes the founding: 尚未成立 says more than 未入库 there."""
    return founded_on is not None and day < founded_on


def profile_context(session: Session, principal: Principal, enterprise: Enterprise) -> dict[str, Any]:
    financial = principal.can(Permission.financial)
    snapshot = current_snapshot(session)
    detail = profile.detail(
        session,
        enterprise_id=enterprise.id,
        financial=financial,
        snapshot_id=snapshot.id if snapshot else None,
    )
    rounds = profile.rounds(session, enterprise_id=enterprise.id, financial=financial)

    valuations: list[dict[str, Any]] = []
    if financial:
        for v in profile.valuations(session, enterprise_id=enterprise.id):
            money = Money.of(v.value.amount, v.value.currency)
            cny, year, fx_text = in_yuan(money, v.as_of)
            valuations.append(
                {
                    "as_of": v.as_of.isoformat(),
                    "text": v.value.text,
                    "evidence": v.evidence,
                    "evidence_name": evidence_name(v.evidence),
                    "source": v.source,
                    "is_synthetic": v.is_synthetic,
                    "cny_text": format_cn(cny) if cny is not None else None,
                    "cny_yi": float(cny.amount / YI) if cny is not None else None,
                    "fx_year": year,
                    "fx_text": fx_text,
                }
            )
    latest_valuation = None
    if financial:
        found = latest_valuations(session, scope=enterprise_filter(principal), ids=[enterprise.id])
        latest_valuation = found.get(enterprise.id)

    settings = get_settings()
    trace: dict[str, Any] | None = None
    trace_error: str | None = None
    try:
        trace = enterprise_trace(
            session,
            enterprise_id=enterprise.id,
            as_of=today(),
            standard_id=settings.default_standard,
            financial=financial,
        )
    except (tiers_service.TierError, UnknownStandardError) as exc:
        trace_error = str(exc)

    score = enterprise_score(session, enterprise_id=enterprise.id)
    signals: list[dict[str, Any]] | None = None
    if financial:
        signals = [
            {
                "on": s.on.isoformat(),
                "kind": KIND_NAMES.get(s.kind, (s.kind, s.kind))[0],
                "text": s.description_zh,
            }
            for s in recent_signals(
                session, since=today() - dt.timedelta(days=SIGNAL_DAYS), enterprise_ids={enterprise.id}
            )
        ]
    events = [
        {
            "occurred_on": e.occurred_on.isoformat(),
            "kind": event_name(e.kind),
            "counterpart": e.counterpart,
            "detail": e.detail,
            "move": (
                f"{region_name(e.from_region_code)} → {region_name(e.to_region_code)}"
                if e.from_region_code or e.to_region_code
                else None
            ),
        }
        for e in profile.events(session, enterprise_id=enterprise.id)
    ]
    industry = industries.get(enterprise.industry_code) if enterprise.industry_code else None
    return {
        "enterprise": detail,
        "financial": financial,
        "snapshot": snapshot,
        "snapshot_tier": tier_name(detail.tier) if detail.tier else None,
        "region": region_name(enterprise.region_code) if enterprise.region_code else enterprise.city,
        "status": status_name(detail.status),
        "industry": f"{enterprise.industry_code} {industry.name}"
        if industry
        else (enterprise.industry_code or None),
        "tracks": [track_name(c) for c in detail.tracks],
        "latest_stage": stage_name(detail.latest_stage) if detail.latest_stage else None,
        "latest_valuation": latest_valuation,
        "latest_valuation_evidence": evidence_name(latest_valuation.evidence) if latest_valuation else None,
        "rounds": [
            {
                "announced_on": r.announced_on.isoformat(),
                "type": stage_name(r.round_type),
                "label": r.round_label,
                "amount": r.amount.text if r.amount else (r.amount_range or r.amount_text),
                "post_money": r.post_money_valuation.text if r.post_money_valuation else None,
                "investors": "、".join(r.investors),
                "is_synthetic": r.is_synthetic,
            }
            for r in rounds
        ],
        "valuations": valuations,
        "chart": {
            "points": [
                {
                    "date": v["as_of"],
                    "value": v["cny_yi"],
                    "text": v["text"],
                    "cny": v["cny_text"],
                    "evidence": v["evidence_name"],
                    "fx": v["fx_text"],
                }
                for v in valuations
                if v["cny_yi"] is not None
            ],
            "labels": {key: t(f"chart.{key}") for key in ("valuation", "cny", "evidence", "unit")},
        },
        "trace": trace,
        "trace_rows": _trace_rows(trace) if trace else [],
        "trace_error": trace_error,
        "history": [
            h
            | {"standard_name": standard_name(h["standard"], h["version"])}
            | ({"tier_name": t("profile.not_founded")} if _before(h["as_of"], enterprise.founded_on) else {})
            for h in tier_history(session, enterprise_id=enterprise.id)
        ],
        "score": score,
        "signals": signals,
        "events": events,
        "form": {
            "name": enterprise.name,
            "name_en": enterprise.name_en or "",
            "industry_code": enterprise.industry_code or "",
            "category": enterprise.category or "",
        },
        "can_edit": principal.can(Permission.write_registry),
    }
