"""Leads from every discovery channel (多元发现渠道线索) and their recommenders' hit rates.

A lead (线索) is a candidate enterprise put forward through one channel — 科技计划, 高校院所, 头部企业
裂变, 投资并购, 双创赛事, 头部基金, 北上广深优质企业, 第三方推荐, AI 发现 — by one recommender (推荐单位).
Leads arrive as CSV/XLSX files; :func:`import_leads` checks every row (errors name file, line, column,
value and reason in Chinese and English) and writes all rows or none.

Identity is the 统一社会信用代码: a lead whose USCC belongs to a registry enterprise is linked to it
(``matched_enterprise_id``), and a lead whose USCC another lead already has points at that one
(``duplicate_of_id``). Names only *suggest* matches (:func:`suggestions`); nothing is ever linked or merged
on a name alone.

A lead then moves through :data:`TRANSITIONS` — new → verifying → accepted (into the registry, naming an
existing enterprise) or rejected (with a reason); verifying → new sends it back — and every move is logged.
:func:`recommender_report` measures each recommender: leads, accepted, entered a tier, became unicorns.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import operator
import re
import tempfile
import threading
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, case, func, select
from sqlalchemy.orm import Session

from qilin.common.dates import today
from qilin.common.messages import SHARED, both, t
from qilin.common.text import control_character
from qilin.common.workflow import Workflow
from qilin.config import get_settings
from qilin.db import utcnow
from qilin.discovery.leads_models import (
    CHANNELS,
    RECOMMENDER_KINDS,
    STATES,
    Lead,
    LeadTransition,
    Recommender,
)
from qilin.reference import regions
from qilin.registry.issues import ImportIssue
from qilin.registry.models import Enterprise, LifecycleEvent
from qilin.registry.reader import (
    WorkbookProblem,
    cell_text,
    clean_header,
    duplicate_columns,
    open_workbook,
)
from qilin.registry.search import CACHES, registry_version
from qilin.registry.validate import RowChecker
from qilin.tiers.models import TierSnapshot, TierSnapshotEntry

__all__ = [
    "CHANNELS",
    "RETURNS",
    "STATES",
    "TRANSITIONS",
    "LeadError",
    "LeadImportReport",
    "LeadView",
    "RecommenderStats",
    "Suggestion",
    "advance",
    "allowed_next",
    "channel_label",
    "comparison_key",
    "get",
    "import_leads",
    "import_rows",
    "list_",
    "name_key",
    "normalize_name",
    "recommender_report",
    "recommenders",
    "similarity",
    "state_label",
    "states_text",
    "suggestions",
    "transitions",
    "view",
]

# The workflow: every allowed (from, to) move. Anything else is refused.
TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("new", "verifying"),  # 开始核实
        ("verifying", "accepted"),  # 核实通过，采纳入库（关联企业库中的企业）
        ("verifying", "rejected"),  # 不予采纳（须填写原因）
        ("verifying", "new"),  # 退回（须填写意见）
    }
)
# Sending back (退回): the moves against the normal order. They need a comment.
RETURNS: frozenset[tuple[str, str]] = frozenset({("verifying", "new")})

ACTOR_MAX = 100
NOTE_MAX = 2000
SUGGESTION_THRESHOLD = 0.5
SUGGESTION_LIMIT = 3
# Columns the import understands; any other column is kept in the submitted values only.
COLUMNS: tuple[str, ...] = (
    "channel",
    "recommender",
    "recommender_kind",
    "name",
    "name_en",
    "uscc",
    "region_code",
    "tracks",
    "founded_on",
    "latest_financing",
    "valuation",
    "contact",
    "note",
    "submitted_on",
)
# Chinese headers officials write, mapped onto the columns.
HEADER_ALIASES: dict[str, str] = {
    "渠道": "channel",
    "发现渠道": "channel",
    "推荐单位": "recommender",
    "推荐机构": "recommender",
    "推荐单位类型": "recommender_kind",
    "企业名称": "name",
    "名称": "name",
    "英文名称": "name_en",
    "统一社会信用代码": "uscc",
    "行政区划代码": "region_code",
    "赛道": "tracks",
    "成立日期": "founded_on",
    "最近融资": "latest_financing",
    "估值": "valuation",
    "联系人": "contact",
    "联系方式": "contact",
    "备注": "note",
    "推荐日期": "submitted_on",
}
_FREE_TEXT = ("latest_financing", "valuation", "contact")


MISSING_INPUT = {"leads.reason_required": "comment", "leads.enterprise_required": "enterprise_id"}
"""The input a refusal asks for, by the name :func:`advance` takes it under."""


class LeadError(Exception):
    """A lead operation that cannot be done; ``str()`` is the bilingual message, ``key`` its catalog key."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key

    def naming(self, names: Mapping[str, str]) -> str:
        """The message and, when it asks for an input, where that goes in the caller's words: ``names`` maps
        :func:`advance`'s argument to the caller's name for it (``comment`` → ``--comment``); an argument
        not in ``names`` is named as it is (the API's fields are)."""
        needed = MISSING_INPUT.get(self.key)
        return f"{self}（{names.get(needed, needed)}）" if needed else str(self)


WORKFLOW = Workflow(STATES, TRANSITIONS, SHARED, prefix="leads")
state_label = WORKFLOW.label
allowed_next = WORKFLOW.allowed_next
states_text = WORKFLOW.states_text


def _error(key: str, **fields: Any) -> LeadError:
    return LeadError(both(key, **fields), key=key)


def channel_label(code: str, lang: str = "zh") -> str:
    return t(f"leads.channel.{code}", lang=lang) if code in CHANNELS else code


# ---- names (pure) -----------------------------------------------------------------------------------------

# Words that say what kind of company it is, not which one: dropped before names are compared.
_ZH_NOISE = (
    "(中国)",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团",
    "控股",
    "股份",
    "公司",
    "科技",
    "技术",
)
_EN_NOISE = frozenset(
    {
        "china",
        "co",
        "company",
        "corp",
        "corporation",
        "group",
        "holding",
        "holdings",
        "inc",
        "incorporated",
        "limited",
        "llc",
        "ltd",
        "plc",
        "tech",
        "technologies",
        "technology",
        "the",
    }
)
_TOKEN = re.compile(r"\w+")


def normalize_name(text: str) -> str:
    """A company name reduced for comparison: full-width → half-width, case folded, legal-form and generic
    words (有限公司, 股份有限公司, 集团, (中国), 科技, Co., Ltd., Inc., …) and punctuation dropped.

    >>> normalize_name("西湖智能（杭州）科技有限公司")
    '西湖智能杭州'
    >>> normalize_name("Westlake Robotics Technology Co., Ltd.")
    'westlakerobotics'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    for word in _ZH_NOISE:
        folded = folded.replace(word, " ")
    return "".join(w for w in _TOKEN.findall(folded.replace("_", " ")) if w not in _EN_NOISE)


def _grams(key: str) -> frozenset[str]:
    """The grams compared of a comparison key: its character bigrams, or trigrams for a key in Latin letters
    and digits, whose few distinct bigrams (ng, an …) are shared by most English names and so filter nothing
    (with bigrams, one page's suggestions on 100,000 enterprises with pinyin English names compared 66,001
    candidates; with trigrams, 23,831)."""
    if key.isascii():
        if len(key) < 3:
            return frozenset({key}) if key else frozenset()
        return frozenset(map("".join, zip(key, key[1:], key[2:], strict=False)))
    if len(key) < 2:
        return frozenset({key}) if key else frozenset()
    return frozenset(map(operator.add, key[:-1], key[1:]))


@cache
def _division_names() -> tuple[frozenset[str], tuple[int, ...]]:
    """Full 行政区划 names of three characters or more, and their lengths, longest first."""
    names = frozenset(r.name for r in regions.all_regions().values() if len(r.name) >= 3)
    return names, tuple(sorted({len(n) for n in names}, reverse=True))


def _after_divisions(text: str) -> str:
    """``text`` without its leading run of full 行政区划 names, the longest matching each time, none
    followed by 场 or 块 (杭州市场… and 东城区块链… keep their words). A dictionary lookup per length: a
    regular expression of the 3,000 names took most of an index's build."""
    names, lengths = _division_names()
    start = 0
    while True:
        for length in lengths:
            end = start + length
            if end <= len(text) and text[start:end] in names and text[end : end + 1] not in ("场", "块"):
                start = end
                break
        else:
            return text[start:]


def comparison_key(name: str) -> str:
    """The part of a name compared for suggestions: :func:`normalize_name` after the leading 行政区划 run,
    which names the registering authority rather than the firm (企业名称 = 行政区划 + 字号 + 行业 +
    组织形式). Without this, every firm named 浙江省杭州市余杭区… resembles every other. The whole name is
    used when nothing else is left. (A lead's identity, :func:`name_key`, keeps the division: 杭州市甲科技
    and 宁波市甲科技 are two firms.)

    >>> comparison_key("浙江省杭州市余杭区西湖智能科技有限公司")
    '西湖智能'
    >>> comparison_key("杭州市场研究有限公司")
    '杭州市场研究'
    """
    folded = unicodedata.normalize("NFKC", name).strip()
    return normalize_name(_after_divisions(folded)) or normalize_name(name)


def _key(name: str) -> frozenset[str]:
    return _grams(comparison_key(name))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two names' :func:`comparison_key` grams (0 to 1): character bigrams, trigrams
    for Latin letters.

    >>> similarity("杭州西湖智能科技有限公司", "西湖智能（杭州）科技有限公司")
    0.67
    >>> similarity("浙江省杭州市余杭区西湖智能科技有限公司", "浙江省杭州市余杭区鼎丰储能科技有限公司")
    0.0
    """
    x, y = _key(a), _key(b)
    if not x or not y:
        return 0.0
    return round(len(x & y) / len(x | y), 2)


def name_key(name: str) -> str:
    """The identity of a lead without a USCC: its normalised name (the folded name when nothing is left)."""
    return normalize_name(name) or unicodedata.normalize("NFKC", name).casefold().strip()


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A possible match found by name similarity — shown to an officer, never linked automatically."""

    kind: str  # "enterprise" or "lead"
    id: str
    name: str
    score: float


@dataclass(slots=True)
class _Candidate:
    kind: str
    id: str
    name: str
    name_en: str | None
    uscc: str | None
    compared: tuple[str, ...]  # comparison keys of the names; grams are made when asked (less memory)


class NameIndex:
    """Enterprises and leads indexed for name suggestions by prefix filtering: two gram sets with Jaccard
    similarity ≥ t share a gram among the first |x| − ⌈t·|x|⌉ + 1 of each, once every set is ordered the
    same way. Ordering rarest first (by their counts in ``names``, the names known when the index is built)
    keeps common grams such as 杭州 or 智能 out of the index, so a suggestion compares only names that share
    a rare one, with the same results as comparing every pair."""

    def __init__(self, names: Iterable[str] = (), *, threshold: float = SUGGESTION_THRESHOLD) -> None:
        self._threshold = threshold
        self._candidates: list[_Candidate | None] = []  # None: removed
        self.removed = 0
        self._by_gram: dict[str, array[int]] = defaultdict(lambda: array("I"))
        self._count(Counter(gram for name in names for gram in _key(name)))

    def _count(self, counts: Counter[str]) -> None:
        """Fix the grams' order: by count, then by the gram itself (``_rank``, 1 = the rarest counted); a
        gram never counted has count 0 and comes first."""
        self._rank = {gram: i for i, gram in enumerate(sorted(counts, key=lambda g: (counts[g], g)), 1)}

    def _prefix(self, key: frozenset[str]) -> list[str]:
        rank = self._rank
        if key <= rank.keys():
            ordered = sorted(key, key=rank.__getitem__)
        else:
            ordered = sorted(key, key=lambda gram: (rank.get(gram, 0), gram))
        overlap = max(1, math.ceil(self._threshold * len(key) - 1e-9))  # the least a match can share
        return ordered[: len(key) - overlap + 1]

    @staticmethod
    def _compared(name: str, name_en: str | None) -> tuple[str, ...]:
        return tuple(k for k in (comparison_key(n) for n in (name, name_en) if n) if _grams(k))

    @classmethod
    def of(
        cls, entries: Iterable[tuple[str, str, str, str | None, str | None]], *, incoming: Iterable[str] = ()
    ) -> NameIndex:
        """An index of ``entries`` (kind, id, name, English name, USCC) as :meth:`add` would make it after
        ``NameIndex(their names and incoming)``, each name's comparison key computed once, not twice;
        ``incoming`` are names to be added later (they count in the grams' rarity)."""
        rows = [
            _Candidate(kind, id, name, name_en, code, cls._compared(name, name_en))
            for kind, id, name, name_en, code in entries
        ]
        index = cls()
        counts = Counter(gram for name in incoming for gram in _key(name))
        counts.update(gram for c in rows for key in c.compared for gram in _grams(key))
        index._count(counts)
        for candidate in rows:
            index._insert(candidate)
        return index

    def add(self, kind: str, id: str, name: str, name_en: str | None, code: str | None) -> int:
        """Index a name (and English name); its position, by which :meth:`remove` takes it out again."""
        return self._insert(_Candidate(kind, id, name, name_en, code, self._compared(name, name_en)))

    def _insert(self, candidate: _Candidate) -> int:
        position = len(self._candidates)
        self._candidates.append(candidate)
        for gram in {gram for key in candidate.compared for gram in self._prefix(_grams(key))}:
            self._by_gram[gram].append(position)
        return position

    def candidate(self, position: int) -> _Candidate | None:
        return self._candidates[position]

    def candidates(self) -> Iterator[tuple[int, _Candidate]]:
        """The indexed candidates (not removed) with their positions."""
        return ((p, c) for p, c in enumerate(self._candidates) if c is not None)

    def remove(self, position: int) -> None:
        """Take the candidate at ``position`` out of the suggestions (its postings stay, skipped)."""
        if self._candidates[position] is not None:
            self._candidates[position] = None
            self.removed += 1

    def suggest(
        self,
        name: str,
        name_en: str | None,
        *,
        code: str | None = None,
        skip: Iterable[tuple[str, str]] = (),
        limit: int = SUGGESTION_LIMIT,
    ) -> list[Suggestion]:
        """The best ``limit`` candidates scoring at least the threshold; those with the USCC ``code`` (already
        matched by code) and those in ``skip`` (kind, id) are left out."""
        queries = [_grams(k) for k in self._compared(name, name_en)]
        skipped = set(skip)
        positions = {p for q in queries for gram in self._prefix(q) for p in self._by_gram.get(gram, ())}
        found: list[Suggestion] = []
        for position in positions:
            c = self._candidates[position]
            if c is None or (c.kind, c.id) in skipped or (code is not None and c.uscc == code):
                continue
            score = 0.0
            for compared in c.compared:
                k = _grams(compared)
                for q in queries:
                    shared = len(q & k)
                    score = max(score, shared / (len(q) + len(k) - shared))
            if score >= self._threshold:
                found.append(Suggestion(c.kind, c.id, c.name, round(score, 2)))
        found.sort(key=lambda s: (-s.score, s.kind, s.id))
        return found[:limit]


_NAMED: dict[str, Select[tuple[Any, str, str | None, str | None]]] = {  # what an index reads of each kind
    "enterprise": select(Enterprise.id, Enterprise.name, Enterprise.name_en, Enterprise.uscc),
    "lead": select(Lead.id, Lead.name, Lead.name_en, Lead.uscc),
}


def _index_of(session: Session, kinds: Sequence[str], incoming: Iterable[str] = ()) -> NameIndex:
    """The enterprises and/or leads (``kinds``), indexed; ``incoming`` are names about to be added (they
    count in the grams' rarity)."""
    entries = (
        (kind, str(row.id), row.name, row.name_en, row.uscc)
        for kind in kinds
        for row in session.execute(_NAMED[kind])
    )
    return NameIndex.of(entries, incoming=incoming)


# Above this share of the indexed enterprises changed (renamed, added or deleted) since the index was built,
# it is built again rather than brought up to date: removed names leave postings behind, and the grams'
# rarity was counted on the names of the build.
REBUILD_SHARE = 0.25


class _RegistryIndex:
    """The enterprises' part of a lead page's suggestions for one database, and where each enterprise is
    in it. Kept while the registry's version (count, latest change) stays. When it moves, every
    enterprise's names and USCC are read and compared with those indexed, and only the enterprises that
    differ are indexed again: a read of four columns, where indexing the registry took 4.6 s at 100,000
    enterprises. Comparing everything, rather than reading the rows changed since the last change seen,
    cannot miss a write whose stamp is earlier than one already seen (a transaction committed late)."""

    def __init__(self, version: tuple[Any, ...], rows: list[tuple[str, str, str | None, str | None]]) -> None:
        self.version = version
        self.index = NameIndex.of(("enterprise", id, name, name_en, uscc) for id, name, name_en, uscc in rows)
        self.positions = {c.id: position for position, c in self.index.candidates()}

    def refresh(self, rows: list[tuple[str, str, str | None, str | None]]) -> bool:
        """Bring the index up to ``rows``; False (nothing changed) when so much differs that building it
        again is better."""
        index, positions = self.index, self.positions
        changed = []
        for row in rows:
            position = positions.get(row[0])
            c = None if position is None else index.candidate(position)
            if c is None or (c.name, c.name_en, c.uscc) != row[1:]:
                changed.append(row)
        gone = positions.keys() - {row[0] for row in rows}
        if index.removed + len(changed) + len(gone) > REBUILD_SHARE * len(positions):
            return False
        for id in gone:
            index.remove(positions.pop(id))
        for id, name, name_en, uscc in changed:
            if id in positions:
                index.remove(positions[id])
            positions[id] = index.add("enterprise", id, name, name_en, uscc)
        return True


_enterprise_indexes: dict[str, _RegistryIndex] = {}
CACHES.append(_enterprise_indexes)
_enterprise_lock = threading.Lock()  # one thread builds or refreshes; the others wait for its result


def _enterprise_index(session: Session) -> NameIndex:
    """The registry's name index as ``session`` sees the registry. A page suggesting from it while another
    request refreshes it may see an enterprise renamed a moment ago under neither name: suggestions only."""
    url = str(session.get_bind().engine.url)
    with _enterprise_lock:
        version = registry_version(session)
        cached = _enterprise_indexes.get(url)
        if cached is not None and cached.version == version:
            return cached.index
        rows = [(str(r.id), r.name, r.name_en, r.uscc) for r in session.execute(_NAMED["enterprise"])]
        if cached is None or not cached.refresh(rows):
            cached = _RegistryIndex(version, rows)
        cached.version = version
        _enterprise_indexes[url] = cached
        return cached.index


def build_suggestion_index(engine: Engine) -> None:
    """Build the registry's name index for the lead pages' suggestions now (at start-up, in the background)
    rather than on the first lead page viewed: 4.6 s at 100,000 enterprises."""
    with Session(engine) as session:
        _enterprise_index(session)


class _Suggester:
    """Name suggestions among the registry (its index cached per process, :func:`_enterprise_index`) and the
    leads (indexed here, with ``incoming`` names counted in their rarity). The same as one index of both:
    each part gives its own best three, and the best three of those six are the best of all; the order of
    the grams (their rarity) never changes what an index finds."""

    def __init__(self, session: Session, incoming: Iterable[str] = ()) -> None:
        self._enterprises = _enterprise_index(session)
        self._leads = _index_of(session, ["lead"], incoming)

    def add(self, lead: Lead) -> None:
        self._leads.add("lead", str(lead.id), lead.name, lead.name_en, lead.uscc)

    def suggest(self, lead: Lead) -> list[Suggestion]:
        found = [
            *self._enterprises.suggest(lead.name, lead.name_en, code=lead.uscc),
            *self._leads.suggest(lead.name, lead.name_en, code=lead.uscc, skip=[("lead", str(lead.id))]),
        ]
        found.sort(key=lambda s: (-s.score, s.kind, s.id))
        return found[:SUGGESTION_LIMIT]


def suggestions(session: Session, *, lead_id: int) -> list[Suggestion]:
    """Enterprises and other leads whose names resemble the lead's (top 3 above the threshold)."""
    return _Suggester(session).suggest(get(session, lead_id=lead_id))


# ---- reading a lead file ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Sheet:
    label: str
    headers: list[str]  # as written in the file
    columns: list[str]  # understood names (aliases resolved)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _column(header: str) -> str:
    """The understood name of a header already cleaned by :func:`clean_header` (an alias resolved)."""
    return HEADER_ALIASES.get(header, header.lower() if header.lower() in COLUMNS else header)


def _sheet(label: str, header: list[str], body: Iterable[tuple[int, list[str]]]) -> _Sheet:
    headers = clean_header(header)
    while headers and not headers[-1]:
        headers.pop()
    sheet = _Sheet(label, headers, [_column(h) for h in headers])
    for line, values in body:
        if not any(v.strip() for v in values):
            continue
        values = (values + [""] * len(headers))[: len(headers)]
        sheet.rows.append((line, dict(zip(headers, values, strict=True))))
    return sheet


class _BadCsv(Exception):
    """A file the csv module cannot read (a cell over its field limit), with the line it reached."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(detail)
        self.line = line
        self.detail = detail


def _read_csv(path: Path) -> _Sheet:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None) or []
            body: list[tuple[int, list[str]]] = []
            line = reader.line_num
            for values in reader:
                body.append((line + 1, values))
                line = reader.line_num
        except csv.Error as error:  # a cell beyond the csv module's 131,072-character limit
            raise _BadCsv(reader.line_num, str(error)) from error
    return _sheet(path.name, header, body)


def _read_xlsx(path: Path) -> _Sheet:
    """The first sheet of a workbook (guarded as the registry's import guards it)."""
    settings = get_settings()
    workbook = open_workbook(path)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [cell_text(v) for v in next(rows, None) or ()]
        body = []
        for number, values in enumerate(rows, start=2):
            if number - 1 > settings.xlsx_max_rows:
                raise WorkbookProblem(
                    "import.xlsx_too_many_rows", sheet=sheet.title, limit=settings.xlsx_max_rows
                )
            body.append((number, [cell_text(v) for v in values]))
        return _sheet(f"{path.name}[{sheet.title}]", header, body)
    except WorkbookProblem:
        raise
    except Exception as exc:  # a damaged sheet inside a valid zip
        raise WorkbookProblem("import.xlsx_invalid", reason=str(exc)) from exc
    finally:
        workbook.close()


def _read(path: Path) -> tuple[_Sheet | None, list[ImportIssue]]:
    if not path.is_file():
        return None, [ImportIssue(str(path), None, None, None, "import.not_found", {"path": str(path)})]
    try:
        if path.suffix.lower() == ".xlsx":
            sheet = _read_xlsx(path)
        elif path.suffix.lower() == ".csv":
            sheet = _read_csv(path)
        else:
            return None, [ImportIssue(path.name, None, None, None, "leads.file_kind", {"name": path.name})]
    except UnicodeDecodeError:
        return None, [ImportIssue(path.name, None, None, None, "import.encoding")]
    except _BadCsv as bad:
        fields = {"line": bad.line, "detail": bad.detail}
        return None, [ImportIssue(path.name, None, None, None, "leads.csv_unreadable", fields)]
    except WorkbookProblem as problem:
        return None, [ImportIssue(path.name, None, None, None, problem.key, problem.fields)]
    repeated = duplicate_columns(sheet.columns)  # 企业名称 and 名称 are both the name
    if repeated:
        written = ", ".join(h for h, c in zip(sheet.headers, sheet.columns, strict=True) if c in repeated)
        return None, [
            ImportIssue(sheet.label, 1, None, None, "import.duplicate_columns", {"columns": written})
        ]
    if "name" not in sheet.columns:
        return None, [ImportIssue(sheet.label, 1, None, None, "leads.no_name_column")]
    for header in sheet.headers:  # a header is stored (and shown) with the submitted values
        char = control_character(header)
        if char is not None:
            return None, [ImportIssue(sheet.label, 1, None, header, "field.control_char", {"char": char})]
    return sheet, []


# ---- checking rows (pure) ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    channel: str
    recommender: str
    recommender_kind: str | None
    name: str
    name_en: str | None
    uscc: str | None
    region_code: str | None
    tracks: list[str]
    founded_on: dt.date | None
    note: str | None
    submitted_on: dt.date
    submitted: dict[str, str]

    @property
    def identity(self) -> str:
        return f"uscc:{self.uscc}" if self.uscc else f"name:{name_key(self.name)[:200]}"


def _channel_code(text: str) -> str | None:
    folded = text.strip().casefold()
    for code in CHANNELS:
        names = (code, t(f"leads.channel.{code}", lang="zh"), t(f"leads.channel.{code}", lang="en"))
        if folded in (n.casefold() for n in names):
            return code
    return None


def _check_row(
    c: RowChecker,
    line: int,
    raw: dict[str, str],
    row: dict[str, str],
    *,
    channel: str | None,
    recommender: str | None,
    own: bool = False,
) -> _Row | None:
    c.start(line)
    channel_text = row.get("channel", "").strip()
    code: str | None = channel
    if channel_text:
        code = _channel_code(channel_text)
        if code is None:
            c.fail("channel", channel_text, "leads.channel_unknown", known=", ".join(CHANNELS))
    elif channel is None:
        c.fail("channel", "", "leads.channel_required")
    who = c.text(row, "recommender") or recommender
    if who is None:
        c.fail("recommender", "", "leads.recommender_required")
    elif own and who != recommender:  # an institution recommends in its own name only
        c.fail("recommender", who, "leads.recommender_not_own", own=recommender)
    if own and code == "ai_discovery":
        c.fail("channel", channel_text or code, "leads.channel_reserved")
    kind = c.text(row, "recommender_kind")
    if kind is not None and kind.lower() not in RECOMMENDER_KINDS:
        c.fail("recommender_kind", kind, "leads.recommender_kind_unknown", known=", ".join(RECOMMENDER_KINDS))
    name = c.text(row, "name", required=True)
    name_en = c.text(row, "name_en")
    credit = c.uscc(row)
    region_code = c.region(row, "region_code")
    track_codes = c.tracks(row)
    founded_on = c.date(row, "founded_on")
    submitted_on = c.date(row, "submitted_on")
    for column in _FREE_TEXT:
        c.text(row, column)
    for column in (k for k in row if k not in COLUMNS):  # kept in the submitted values, shown as they are
        char = control_character(row[column])
        if char is not None:
            c.fail(column, row[column], "field.control_char", char=char)
    note = row.get("note", "").strip() or None
    char = None if note is None else control_character(note)
    if note is not None and char is not None:
        c.fail("note", note, "field.control_char", char=char)
    elif note is not None and len(note) > NOTE_MAX:
        c.fail("note", note, "field.too_long", max=NOTE_MAX)
    if c.row_failed or code is None or who is None or name is None:
        return None
    return _Row(
        line=line,
        channel=code,
        recommender=who,
        recommender_kind=kind.lower() if kind else None,
        name=name,
        name_en=name_en,
        uscc=credit,
        region_code=region_code,
        tracks=sorted(track_codes),
        founded_on=founded_on,
        note=note,
        submitted_on=submitted_on or c.today,
        submitted={k: v for k, v in raw.items() if k and v.strip()},
    )


def _check_sheet(
    sheet: _Sheet, *, channel: str | None, recommender: str | None, own: bool = False
) -> tuple[list[_Row], list[ImportIssue], int]:
    """The valid rows, every issue (columns named as the file writes them), and how many rows failed."""
    c = RowChecker(sheet.label, today())
    written = dict(zip(sheet.columns, sheet.headers, strict=True))
    rows: list[_Row] = []
    seen: dict[tuple[str, str, str], int] = {}
    failed = 0
    for line, raw in sheet.rows:
        understood = {
            column: raw[header] for column, header in zip(sheet.columns, sheet.headers, strict=True)
        }
        checked = _check_row(c, line, raw, understood, channel=channel, recommender=recommender, own=own)
        if checked is not None:
            key = (checked.channel, checked.recommender, checked.identity)
            if key in seen:
                column = "uscc" if checked.uscc else "name"
                value = checked.uscc or checked.name
                c.fail(column, value, "leads.duplicate_in_file", line=seen[key])
                checked = None
            else:
                seen[key] = line
        if checked is None:
            failed += 1
        else:
            rows.append(checked)
    issues = [replace(i, column=written.get(i.column, i.column)) if i.column else i for i in c.issues]
    return rows, issues, failed


# ---- importing --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What became of one valid row: its lead (new or already present), its USCC links and suggestions."""

    line: int
    lead_id: int
    name: str
    added: bool
    matched_enterprise_id: str | None
    duplicate_of_id: int | None
    suggestions: tuple[Suggestion, ...]


@dataclass(slots=True)
class LeadImportReport:
    file: str
    read: int = 0
    rejected: int = 0
    issues: list[ImportIssue] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
    refused: bool = False

    @property
    def added(self) -> int:
        return sum(1 for o in self.outcomes if o.added)

    @property
    def existing(self) -> int:
        return sum(1 for o in self.outcomes if not o.added)


def import_leads(
    session: Session,
    *,
    path: Path,
    actor: str,
    channel: str | None = None,
    recommender: str | None = None,
    recommender_kind: str = "other",
    skip_invalid: bool = False,
    own_recommender: bool = False,
) -> LeadImportReport:
    """Import the leads of one CSV/XLSX file. ``channel`` and ``recommender`` apply to rows that leave those
    columns empty. All rows or none, unless ``skip_invalid``; a lead already present (same channel,
    recommender and USCC or normalised name) is left alone, so re-importing a file adds nothing.

    ``own_recommender`` (a recommending institution submitting its own file): every row is ``recommender``'s,
    a row naming another institution is refused, and so is the platform's own AI discovery channel."""
    if own_recommender and not (recommender or "").strip():
        raise _error("leads.recommender_required")
    actor = _required(actor, "leads.actor_required", limit=ACTOR_MAX)
    if channel is not None:
        code = _channel_code(channel)
        if code is None:
            raise _error("leads.channel_unknown", known=", ".join(CHANNELS))
        channel = code
    recommender = (recommender or "").strip() or None
    if recommender is not None and len(recommender) > 200:
        raise _error("leads.too_long", max=200)
    if recommender_kind not in RECOMMENDER_KINDS:
        raise _error("leads.recommender_kind_unknown", known=", ".join(RECOMMENDER_KINDS))

    sheet, issues = _read(path)
    report = LeadImportReport(file=path.name, issues=issues)
    if sheet is None:
        report.refused = True
        return report
    rows, issues, failed = _check_sheet(sheet, channel=channel, recommender=recommender, own=own_recommender)
    report.read, report.rejected, report.issues = len(sheet.rows), failed, issues
    if issues and not skip_invalid:
        report.refused = True
        return report

    suggester = _Suggester(session, [n for row in rows for n in (row.name, row.name_en) if n])
    recommenders: dict[str, Recommender] = {}
    for row in rows:
        who = recommenders.get(row.recommender) or _recommender(
            session, name=row.recommender, kind=row.recommender_kind or recommender_kind
        )
        recommenders[row.recommender] = who
        lead = session.scalar(
            select(Lead).where(
                Lead.channel == row.channel, Lead.recommender_id == who.id, Lead.identity == row.identity
            )
        )
        added = lead is None
        if lead is None:
            lead = _create(session, row=row, recommender=who, file=sheet.label, actor=actor)
            suggester.add(lead)
        found = suggester.suggest(lead)
        report.outcomes.append(
            RowOutcome(
                row.line,
                lead.id,
                lead.name,
                added,
                lead.matched_enterprise_id,
                lead.duplicate_of_id,
                tuple(found),
            )
        )
    return report


def import_rows(
    session: Session, rows: Sequence[dict[str, str]], *, file: str, actor: str
) -> LeadImportReport:
    """Leads the platform writes itself (the AI channel's, the demo's), given as rows of column → text and
    imported exactly as a CSV file ``file`` of them would be: every check, the USCC match, the suggestions,
    all rows or none. Line 2 is the first row."""
    columns = list(dict.fromkeys(column for row in rows for column in row))
    with tempfile.TemporaryDirectory(prefix="qilin-leads-") as folder:
        path = Path(folder) / file
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        return import_leads(session, path=path, actor=actor)


def _recommender(session: Session, *, name: str, kind: str) -> Recommender:
    found = session.scalar(select(Recommender).where(Recommender.name == name))
    if found is None:
        found = Recommender(name=name, kind=kind, created_at=utcnow())
        session.add(found)
        session.flush()
    return found


def _create(session: Session, *, row: _Row, recommender: Recommender, file: str, actor: str) -> Lead:
    matched = duplicate_of = None
    if row.uscc:
        matched = session.scalar(select(Enterprise.id).where(Enterprise.uscc == row.uscc))
        duplicate_of = session.scalar(select(func.min(Lead.id)).where(Lead.uscc == row.uscc))
    lead = Lead(
        channel=row.channel,
        recommender_id=recommender.id,
        identity=row.identity,
        name=row.name,
        name_en=row.name_en,
        uscc=row.uscc,
        region_code=row.region_code,
        tracks=row.tracks,
        founded_on=row.founded_on,
        note=row.note,
        submitted=row.submitted,
        submitted_on=row.submitted_on,
        source_file=file[:255],
        source_line=row.line,
        recorded_by=actor,
        recorded_at=utcnow(),
        status="new",
        matched_enterprise_id=matched,
        duplicate_of_id=duplicate_of,
    )
    session.add(lead)
    session.flush()
    return lead


# ---- reading ----------------------------------------------------------------------------------------------


def get(session: Session, *, lead_id: int, for_update: bool = False) -> Lead:
    """The lead ``lead_id``; ``for_update`` locks its row (PostgreSQL) so that moves happen one at a time."""
    query = select(Lead).where(Lead.id == lead_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    lead = session.scalar(query)
    if lead is None:
        raise _error("leads.not_found", id=lead_id)
    return lead


def list_(session: Session, *, status: str | None = None, channel: str | None = None) -> list[Lead]:
    """Leads, oldest first, optionally of one status and one channel."""
    query = select(Lead)
    if status is not None:
        if status not in STATES:
            raise _error("leads.status_unknown", value=status, known=", ".join(STATES))
        query = query.where(Lead.status == status)
    if channel is not None:
        code = _channel_code(channel)
        if code is None:
            raise _error("leads.channel_unknown", known=", ".join(CHANNELS))
        query = query.where(Lead.channel == code)
    return list(session.scalars(query.order_by(Lead.id)))


def recommenders(session: Session) -> list[Recommender]:
    """Every recommender, by name."""
    return list(session.scalars(select(Recommender).order_by(Recommender.name)))


def transitions(session: Session, *, lead_id: int) -> list[LeadTransition]:
    """The lead's transition log, oldest first."""
    get(session, lead_id=lead_id)
    query = select(LeadTransition).where(LeadTransition.lead_id == lead_id)
    return list(session.scalars(query.order_by(LeadTransition.id)))


@dataclass(frozen=True, slots=True)
class LeadView:
    """Everything ``qilin leads show`` displays about one lead."""

    lead: Lead
    recommender: Recommender
    allowed_next: tuple[str, ...]
    transitions: list[LeadTransition]
    suggestions: list[Suggestion]
    matched_name: str | None
    enterprise_name: str | None


def view(session: Session, *, lead_id: int) -> LeadView:
    lead = get(session, lead_id=lead_id)
    recommender = session.get(Recommender, lead.recommender_id)
    assert recommender is not None  # a foreign key
    names = {
        e_id: name
        for e_id, name in session.execute(
            select(Enterprise.id, Enterprise.name).where(
                Enterprise.id.in_([i for i in (lead.matched_enterprise_id, lead.enterprise_id) if i])
            )
        ).tuples()
    }
    return LeadView(
        lead=lead,
        recommender=recommender,
        allowed_next=allowed_next(lead.status),
        transitions=transitions(session, lead_id=lead_id),
        suggestions=suggestions(session, lead_id=lead_id),
        matched_name=names.get(lead.matched_enterprise_id or ""),
        enterprise_name=names.get(lead.enterprise_id or ""),
    )


# ---- moving -----------------------------------------------------------------------------------------------


def _required(value: str | None, key: str, *, limit: int | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise _error(key)
    if limit is not None and len(text) > limit:
        raise _error("leads.too_long", max=limit)
    return text


def advance(
    session: Session,
    *,
    lead_id: int,
    to_state: str,
    actor: str,
    comment: str | None = None,
    enterprise_id: str | None = None,
) -> LeadTransition:
    """Move the lead to ``to_state`` if :data:`TRANSITIONS` allows it, and log the move.

    Rejecting needs a reason (``comment``); sending back needs a comment. Accepting links the lead to an
    enterprise that exists in the registry: ``enterprise_id``, or else the enterprise holding the lead's
    USCC; it is refused when neither exists (enterprises are not created here) or when the enterprise's
    USCC differs from the lead's.
    """
    lead = get(session, lead_id=lead_id, for_update=True)
    current = lead.status
    if (current, to_state) not in TRANSITIONS:
        raise _error(  # the labels as callables: each half of the message names the states in its language
            "leads.transition_refused",
            id=lead_id,
            state=lambda lang: state_label(current, lang),
            target=lambda lang: state_label(to_state, lang),
            allowed=lambda lang: states_text(allowed_next(current), lang),
        )
    actor = _required(actor, "leads.actor_required", limit=ACTOR_MAX)
    note = (comment or "").strip() or None
    if to_state == "rejected" and note is None:
        raise _error("leads.reason_required")
    if (current, to_state) in RETURNS and note is None:
        raise _error("leads.comment_required")
    chosen = (enterprise_id or "").strip() or None
    if to_state == "accepted":
        lead.enterprise_id = _enterprise_for(session, lead, chosen)
    elif chosen is not None:
        raise _error("leads.enterprise_unexpected")
    if to_state == "rejected":
        lead.rejection_reason = note
    transition = LeadTransition(
        lead_id=lead.id,
        from_state=current,
        to_state=to_state,
        actor=actor,
        at=utcnow(),
        comment=note,
        enterprise_id=lead.enterprise_id if to_state == "accepted" else None,
    )
    lead.status = to_state
    session.add(transition)
    session.flush()
    return transition


def _enterprise_for(session: Session, lead: Lead, chosen: str | None) -> str:
    if chosen is None:
        by_code = (
            session.scalar(select(Enterprise.id).where(Enterprise.uscc == lead.uscc)) if lead.uscc else None
        )
        if by_code is None:
            raise _error("leads.enterprise_required")
        return by_code
    enterprise = session.get(Enterprise, chosen)
    if enterprise is None:
        raise _error("leads.enterprise_unknown", id=chosen)
    if lead.uscc and enterprise.uscc and enterprise.uscc != lead.uscc:
        raise _error(
            "leads.enterprise_uscc_mismatch", id=chosen, enterprise_uscc=enterprise.uscc, lead_uscc=lead.uscc
        )
    return enterprise.id


# ---- recommenders' hit rates ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecommenderStats:
    """One recommender's record: its leads, how many were accepted, and how many of those enterprises
    entered a tier (梯队) or became unicorns after the lead was submitted."""

    recommender_id: int
    name: str
    kind: str
    leads: int
    accepted: int
    entered_tier: int
    unicorns: int

    def rate(self, count: int) -> float | None:
        """``count`` as a share of the leads; None without leads."""
        return count / self.leads if self.leads else None


def recommender_report(session: Session) -> list[RecommenderStats]:
    """Every recommender's hit rate, most leads first.

    A lead entered a tier when its accepted enterprise has a tier other than ``none`` in a snapshot dated
    after the lead's submission; it became a unicorn when, after submission, the enterprise has a
    ``unicorn_list_entry`` event or a snapshot tier of unicorn or super unicorn.
    """
    counts = {
        rid: (total, accepted or 0)
        for rid, total, accepted in session.execute(
            select(
                Lead.recommender_id,
                func.count(Lead.id),
                func.sum(case((Lead.status == "accepted", 1), else_=0)),
            ).group_by(Lead.recommender_id)
        ).tuples()
    }
    accepted = (
        select(Lead.id, Lead.recommender_id, Lead.enterprise_id, Lead.submitted_on)
        .where(Lead.status == "accepted")
        .subquery()
    )
    later_tier = (
        select(accepted.c.id, accepted.c.recommender_id, TierSnapshotEntry.tier)
        .join(TierSnapshotEntry, TierSnapshotEntry.enterprise_id == accepted.c.enterprise_id)
        .join(TierSnapshot, TierSnapshot.id == TierSnapshotEntry.snapshot_id)
        .where(TierSnapshot.as_of > accepted.c.submitted_on, TierSnapshotEntry.tier != "none")
    )
    tiered: dict[int, set[int]] = defaultdict(set)
    unicorn: dict[int, set[int]] = defaultdict(set)
    for lead_id, rid, tier in session.execute(later_tier).tuples():
        tiered[rid].add(lead_id)
        if tier in ("unicorn", "super_unicorn"):
            unicorn[rid].add(lead_id)
    listed = select(accepted.c.id, accepted.c.recommender_id).join(
        LifecycleEvent,
        (LifecycleEvent.enterprise_id == accepted.c.enterprise_id)
        & (LifecycleEvent.kind == "unicorn_list_entry")
        & (LifecycleEvent.occurred_on > accepted.c.submitted_on),
    )
    for lead_id, rid in session.execute(listed).tuples():
        unicorn[rid].add(lead_id)
    out = [
        RecommenderStats(
            recommender_id=r.id,
            name=r.name,
            kind=r.kind,
            leads=counts.get(r.id, (0, 0))[0],
            accepted=counts.get(r.id, (0, 0))[1],
            entered_tier=len(tiered[r.id]),
            unicorns=len(unicorn[r.id]),
        )
        for r in session.scalars(select(Recommender))
    ]
    out.sort(key=lambda s: (-s.leads, s.name))
    return out
