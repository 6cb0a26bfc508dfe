"""The registry list (企业库列表): filters, search, sort and pages, inside a caller's scope.

The tier shown beside each enterprise is the one in the latest tier snapshot of the platform's standard;
its date travels with the page so the reader knows how current it is.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from bisect import bisect_right
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from qilin.common.ttl import TtlCache
from qilin.db import code_prefix
from qilin.reference import regions
from qilin.registry.models import Enterprise, EnterpriseTrack, FundingRound
from qilin.tiers.models import TierSnapshotEntry
from qilin.tiers.standards import TIER_CODES

SORTS: dict[str, tuple[str, bool]] = {
    "tier": ("tier", False),
    "name": ("name", False),
    "-name": ("name", True),
    "founded": ("founded_on", False),
    "-founded": ("founded_on", True),
    "region": ("region_code", False),
}
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class EnterpriseFilters:
    region: str | None = None  # a province, city or county code
    track: str | None = None
    tier: str | None = None
    stage: str | None = None  # the latest funding round's type
    q: str | None = None  # part of the Chinese or English name, or a full USCC
    synthetic: bool | None = None


@dataclass(frozen=True)
class ListItem:
    id: str
    name: str
    name_en: str | None
    uscc: str | None
    region_code: str | None
    city: str | None
    county: str | None
    founded_on: dt.date | None
    status: str
    tier: str | None
    latest_stage: str | None
    is_synthetic: bool
    tracks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    items: list[ListItem]
    total: int
    page: int
    page_size: int
    snapshot_as_of: dt.date | None


def region_prefix(code: str) -> str:
    """The region-code prefix a province (33xxxx → 33), city (3301xx → 3301) or county code covers."""
    region = regions.get(code)
    if region is not None and region.level == "province":
        return code[:2]
    if region is not None and region.level == "prefecture":
        return code[:4]
    return code


def region_condition(code: str) -> ColumnElement[bool]:
    """Enterprises in a province (33xxxx), city (3301xx) or county (330106) code."""
    prefix = region_prefix(code)
    return Enterprise.region_code == code if len(prefix) == 6 else code_prefix(Enterprise.region_code, prefix)


def _latest_round_type() -> Any:
    latest = (
        select(FundingRound.round_type)
        .where(FundingRound.enterprise_id == Enterprise.id)
        .order_by(FundingRound.announced_on.desc(), FundingRound.id.desc())
        .limit(1)
        .correlate(Enterprise)
        .scalar_subquery()
    )
    return latest


COUNT_CACHE_SECONDS = 120.0
_counts: TtlCache[Hashable, int] = TtlCache(seconds=COUNT_CACHE_SECONDS)
# Bumped by imports and corrections in this process: cached totals key on it (other processes' writes
# show after at most COUNT_CACHE_SECONDS).
REGISTRY_WRITES = [0]


def _count(session: Session, conditions: list[ColumnElement[bool]], *, key: Hashable | None) -> int:
    def query() -> int:
        return session.scalar(select(func.count()).select_from(Enterprise).where(*conditions)) or 0

    if key is None:
        return query()
    key = (str(session.get_bind().engine.url), REGISTRY_WRITES[0], key)

    total = _counts.get(key)
    if total is not None:
        return total
    with _guard:
        lock = _count_locks.setdefault(key, threading.Lock())
    with lock:  # concurrent requests for the same new total wait for one count, not run it each
        total = _counts.get(key)
        if total is None:
            total = query()
            _counts.put(key, total)
    with _guard:
        _count_locks.pop(key, None)
    return total


_guard = threading.Lock()
_count_locks: dict[Hashable, threading.Lock] = {}


def forget_counts() -> None:
    """Drop cached totals and names, and every cache in :data:`CACHES` (tests, which empty the database
    between cases)."""
    _counts.clear()
    _names.clear()
    for cache in CACHES:
        cache.clear()


# Other modules' per-process caches of registry data (the leads' name index), emptied with these.
CACHES: list[dict[Any, Any]] = []


# Substring search over names (LIKE '%…%') reads every row; for a rare fragment that is the whole table on
# every page. Each process keeps the names in memory (about 10 MB per 100,000 enterprises) and turns a
# fragment into the ids that contain it. The copy is reloaded when the registry changed: a write in this
# process at once, any other write when the next search after NAMES_CHECK_SECONDS finds the registry's
# version (count of enterprises, latest change) moved. A common fragment (more than NAME_MATCH_LIMIT
# matches) is left to the database, which finds a page of those quickly by walking the name index.
NAMES_CHECK_SECONDS = 5.0
NAME_MATCH_LIMIT = 300


@dataclass
class _NameIndex:
    """All names in one lower-cased text ("name\x00name_en\x01" per enterprise) with each entry's start:
    ``str.find`` scans it at C speed, and a bisection maps a hit back to its enterprise."""

    version: tuple[Any, ...]
    writes: int
    text: str
    starts: list[int]
    ids: list[str]
    region_codes: list[str]
    checked_at: float = field(default_factory=time.monotonic)
    # Fragments already looked up in this index (paging through results repeats them).
    recent: dict[tuple[str, str, int], list[str] | None] = field(default_factory=dict)

    def matches(self, needle: str, region: str, limit: int) -> list[str] | None:
        key = (needle, region, limit)
        if key not in self.recent:
            if len(self.recent) > 1000:
                self.recent.clear()
            self.recent[key] = self._scan(needle, region, limit)
        return self.recent[key]

    def _scan(self, needle: str, region: str, limit: int) -> list[str] | None:
        found: list[str] = []
        position = self.text.find(needle)
        while position != -1:
            entry = bisect_right(self.starts, position) - 1
            if self.region_codes[entry].startswith(region):
                found.append(self.ids[entry])
                if len(found) > limit:
                    return None
            following = self.starts[entry + 1] if entry + 1 < len(self.starts) else len(self.text)
            position = self.text.find(needle, following)
        return found


_names: dict[str, _NameIndex] = {}


_names_loading = threading.Lock()


def registry_version(session: Session) -> tuple[Any, ...]:
    """(number of enterprises, latest change): moves on every insert and deletion, and on every update that
    stamps ``updated_at`` (the registry's write paths — corrections and imports — all do). A count and an
    index probe (``ix_enterprises_updated_at``): a few milliseconds on 100,000 enterprises."""
    return tuple(session.execute(select(func.count(), func.max(Enterprise.updated_at))).one())


def _current(index: _NameIndex | None, session: Session) -> bool:
    if index is None or index.writes != REGISTRY_WRITES[0]:
        return False
    if time.monotonic() - index.checked_at <= NAMES_CHECK_SECONDS:
        return True
    if registry_version(session) != index.version:
        return False
    index.checked_at = time.monotonic()
    return True


def _load_names(session: Session) -> _NameIndex:
    version = registry_version(session)
    ids: list[str] = []
    starts: list[int] = []
    parts: list[str] = []
    region_codes: list[str] = []
    length = 0
    rows = session.execute(select(Enterprise.id, Enterprise.name, Enterprise.name_en, Enterprise.region_code))
    for eid, name, name_en, region_code in rows:
        entry = f"{name}\x00{name_en or ''}\x01".lower()
        ids.append(eid)
        starts.append(length)
        parts.append(entry)
        region_codes.append(region_code or "")
        length += len(entry)
    return _NameIndex(version, REGISTRY_WRITES[0], "".join(parts), starts, ids, region_codes)


def _name_matches(session: Session, text: str, region: str) -> list[str] | None:
    """Ids whose Chinese or English name contains ``text`` (case-insensitive) and whose region code starts
    with ``region`` ("" for any); None when too many."""
    index = _name_index(session)
    needle = text.lower()
    if not needle or "\x00" in needle or "\x01" in needle:
        return None
    return index.matches(needle, region, NAME_MATCH_LIMIT)


def _name_index(session: Session) -> _NameIndex:
    """The names in memory as ``session`` sees the registry, loaded again when it changed."""
    url = str(session.get_bind().engine.url)
    index = _names.get(url)
    if not _current(index, session):
        with _names_loading:  # one thread loads; the others wait for its index instead of loading too
            index = _names.get(url)
            if not _current(index, session):
                index = _load_names(session)
                _names[url] = index
    assert index is not None
    return index


def load_names_ahead(engine: Engine) -> None:
    """Load the names searched by the enterprise list now (at start-up, in the background) rather than on
    the first search: 0.6-0.7 s of it at 100,000 enterprises."""
    with Session(engine) as session:
        _name_index(session)


def _track_codes() -> Any:
    """The enterprise's track codes joined by commas (codes hold no commas), in the page's one query."""
    return (
        select(func.aggregate_strings(EnterpriseTrack.track_code, ","))
        .where(EnterpriseTrack.enterprise_id == Enterprise.id)
        .correlate(Enterprise)
        .scalar_subquery()
    )


def search(
    session: Session,
    *,
    scope: ColumnElement[bool],
    filters: EnterpriseFilters,
    snapshot_id: int | None,
    snapshot_as_of: dt.date | None = None,
    sort: str = "name",
    page: int = 1,
    page_size: int = 20,
    count_key: Hashable | None = None,
    scope_region: str | None = None,
    max_page_size: int = MAX_PAGE_SIZE,
) -> Page:
    """One page of enterprises inside ``scope`` matching ``filters``, with the total.

    ``count_key`` names the scope (e.g. the role and region of the caller): the total for the same key,
    filters and snapshot is then reused for :data:`COUNT_CACHE_SECONDS`, so paging through a large
    registry counts the matches once, not on every page. ``scope_region`` is the region-code prefix the
    scope lies within (a city officer's 3301), if any: name search uses it to narrow its matches early.
    It only narrows; ``scope`` is always applied. Pages hold at most ``max_page_size`` rows (an export
    reads larger pages: each page sorts the matches again)."""
    page_size = max(1, min(page_size, max_page_size))
    page = max(1, page)
    entry = TierSnapshotEntry
    join_on = and_(entry.enterprise_id == Enterprise.id, entry.snapshot_id == (snapshot_id or -1))
    conditions: list[ColumnElement[bool]] = [scope]
    if filters.region:
        conditions.append(region_condition(filters.region))
    if filters.track:
        conditions.append(
            exists().where(
                EnterpriseTrack.enterprise_id == Enterprise.id, EnterpriseTrack.track_code == filters.track
            )
        )
    if filters.tier:
        # Served by the (snapshot_id, tier, enterprise_id) index; "none" also covers enterprises the
        # snapshot does not know (registered after it was taken).
        tiered = select(entry.enterprise_id).where(entry.snapshot_id == (snapshot_id or -1))
        if filters.tier == "none":
            conditions.append(Enterprise.id.not_in(tiered.where(entry.tier != "none")))
        else:
            conditions.append(Enterprise.id.in_(tiered.where(entry.tier == filters.tier)))
    if filters.stage:
        conditions.append(_latest_round_type() == filters.stage)
    if filters.synthetic is not None:
        conditions.append(Enterprise.is_synthetic.is_(filters.synthetic))
    if filters.q:
        text = filters.q.strip()
        # Every match must lie in the scope's region and the filter's: either prefix (the longer) narrows
        # the candidates without losing any; the query below still applies both conditions.
        narrowing = [p for p in (scope_region, filters.region and region_prefix(filters.region)) if p]
        matches = _name_matches(session, text, max(narrowing, key=len, default=""))
        # A USCC is 18 letters and digits; only such a query also looks the code up (an OR on another
        # index would make the database scan the scope instead of probing the few matching names).
        by_uscc = [Enterprise.uscc == text.upper()] if len(text) == 18 and text.isalnum() else []
        if matches is None:
            conditions.append(
                or_(
                    Enterprise.name.icontains(text, autoescape=True),
                    Enterprise.name_en.icontains(text, autoescape=True),
                    *by_uscc,
                )
            )
        else:
            conditions.append(or_(Enterprise.id.in_(matches), *by_uscc))
    total = _count(session, conditions, key=None if count_key is None else (count_key, filters, snapshot_id))

    column, descending = SORTS.get(sort, SORTS["name"])
    if column == "tier":
        rank = case({code: i for i, code in enumerate(TIER_CODES)}, value=entry.tier, else_=len(TIER_CODES))
        order: list[Any] = [rank, Enterprise.name, Enterprise.id]
    else:
        col = getattr(Enterprise, column)
        order = [col.desc() if descending else col.asc(), Enterprise.id]
    # Two steps: the page's ids (an index walk that stops after the page), then the page's details —
    # the latest stage is looked up for these rows only, never for every matching row.
    ids = select(Enterprise.id).where(*conditions)
    if column == "tier":
        ids = ids.outerjoin(entry, join_on)
    page_ids = list(session.scalars(ids.order_by(*order).offset((page - 1) * page_size).limit(page_size)))
    position = {eid: i for i, eid in enumerate(page_ids)}
    rows = sorted(
        session.execute(
            select(*item_columns(), entry.tier).outerjoin(entry, join_on).where(Enterprise.id.in_(page_ids))
        ).all()
        if page_ids
        else [],
        key=lambda r: position[r.id],
    )
    items = [ListItem(**item_fields(r)) for r in rows]
    return Page(items=items, total=total, page=page, page_size=page_size, snapshot_as_of=snapshot_as_of)


def item_columns() -> list[Any]:
    """The columns of an enterprise's list row, but its tier (which the caller joins or looks up as
    ``tier``): read by the list page and by the profile, and turned into fields by :func:`item_fields`."""
    e = Enterprise
    return [
        e.id, e.name, e.name_en, e.uscc, e.region_code, e.city, e.founded_on, e.status, e.is_synthetic,
        _latest_round_type().label("latest_stage"),
        _track_codes().label("tracks"),
    ]  # fmt: skip


def item_fields(row: Any) -> dict[str, Any]:
    """The fields of a list row (:class:`ListItem`, ``schemas.EnterpriseItem``) from a row selected with
    :func:`item_columns` and a ``tier``: city and county named, tracks split and sorted."""
    return {
        "id": row.id,
        "name": row.name,
        "name_en": row.name_en,
        "uscc": row.uscc,
        "region_code": row.region_code,
        "city": city_name(row.region_code) or row.city,
        "county": county_name(row.region_code),
        "founded_on": row.founded_on,
        "status": row.status,
        "tier": row.tier,
        "latest_stage": row.latest_stage,
        "is_synthetic": row.is_synthetic,
        "tracks": sorted(row.tracks.split(",")) if row.tracks else [],
    }


def city_name(code: str | None) -> str | None:
    if not code:
        return None
    city = regions.city_of(code)
    return city.name if city else None


def county_name(code: str | None) -> str | None:
    if not code:
        return None
    region = regions.get(code)
    return region.name if region is not None and region.level == "county" else None


# Ids asked of the database in lists of at most this many: many SQLite builds allow 32,766 parameters in a
# statement (Debian's 250,000), and a diff of two snapshots of a large registry can name more enterprises.
IDS_PER_QUERY = 10_000


def ids_in_scope(session: Session, *, scope: ColumnElement[bool], ids: Sequence[str]) -> set[str]:
    """Those of ``ids`` inside ``scope``, asked :data:`IDS_PER_QUERY` at a time."""
    ids = list(ids)
    found: set[str] = set()
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start : start + IDS_PER_QUERY]
        found.update(session.scalars(select(Enterprise.id).where(scope, Enterprise.id.in_(chunk))))
    return found
