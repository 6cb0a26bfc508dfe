"""``qilin import``: validate a whole data package, then write it in one transaction.

Re-importing the same files changes nothing: enterprises are upserted by id (their 统一社会信用代码 must not
belong to another enterprise), a round is identified by company, date, type and amount, a valuation by
company, date, value, currency, evidence and source, an event by company, kind, date and counterpart.
Valuations and statuses keep their history: a new one adds a row, nothing is overwritten.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnDefault, Date, DateTime, Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from qilin.audit.service import Actor
from qilin.audit.service import record as audit_record
from qilin.common.dates import today as today_
from qilin.common.files import OutputError, write_atomically
from qilin.db import utcnow
from qilin.registry.issues import ImportIssue
from qilin.registry.models import (
    Enterprise,
    EnterpriseTrack,
    FundingRound,
    ImportRun,
    Investor,
    LifecycleEvent,
    OperatingReport,
    RoundInvestor,
    StatusRecord,
    Valuation,
)
from qilin.registry.package import FILES, IMPORT_ORDER
from qilin.registry.reader import REJECTS_SUFFIX, SourceTable, read_package
from qilin.registry.search import REGISTRY_WRITES
from qilin.registry.validate import CHECKS, Record, RowChecker

T = TypeVar("T")


def _iso_date(value: dt.date) -> str:
    return value.isoformat()


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


CHUNK = 2000

ENTERPRISE_FIELDS = (
    "name", "uscc", "name_en", "founded_on", "country", "region_code", "city",
    "industry_code", "category", "source",
)  # fmt: skip
# The values of an operating report that a re-import may fill in or change: its columns but the identity
# (company, year) and the synthetic flag, which has its own rule.
REPORT_FIELDS = tuple(
    c for c in FILES["operating_reports"].columns if c not in ("company_id", "year", "synthetic")
)
DEFAULT_STATUS = "operating"
EVENT_KINDS_BY_FILE = ("unicorn_events", "acquisitions", "lifecycle_events")


class Progress(Protocol):
    """Where long work reports how far it got (a Rich progress bar in the CLI)."""

    def stage(self, name: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class Silent:
    """A :class:`Progress` that reports nothing (work run without a terminal, or in tests)."""

    def stage(self, name: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass(slots=True)
class KindCounts:
    read: int = 0
    rejected: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(slots=True)
class ImportReport:
    issues: list[ImportIssue] = field(default_factory=list)
    counts: dict[str, KindCounts] = field(default_factory=lambda: defaultdict(KindCounts))
    written: bool = False
    rejects_files: dict[Path, int] = field(default_factory=dict)  # rejects file → rows in it
    import_run_id: int | None = None

    @property
    def refused(self) -> bool:
        return bool(self.issues) and not self.written


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(slots=True)
class _Checked:
    table: SourceTable
    records: list[tuple[int, Record]]
    rejected: dict[int, list[ImportIssue]]
    row_count: int


class _Importer:
    def __init__(self, session: Session, progress: Progress, today: dt.date, *, keep_rows: bool) -> None:
        self.session = session
        self.progress = progress
        self.today = today
        # The raw rows are needed after validation only to write rejects files; otherwise they are
        # dropped table by table, which bounds the memory of large imports.
        self.keep_rows = keep_rows
        self.report = ImportReport()
        # Companies counted unchanged whose status may yet add a history row (then counted updated).
        self._unchanged_companies: set[str] = set()

    # ---- validation -------------------------------------------------------------------------------

    def _check_table(self, table: SourceTable, ids_with_uscc: frozenset[str]) -> _Checked:
        checker = RowChecker(table.label, self.today, ids_with_uscc=ids_with_uscc)
        check = CHECKS[table.kind]
        records: list[tuple[int, Record]] = []
        rejected: dict[int, list[ImportIssue]] = {}
        self.progress.stage(f"check:{table.label}", len(table.rows))
        for line, row in table.rows:
            checker.start(line)
            before = len(checker.issues)
            record = check(checker, row)
            if line in table.overflow:
                checker.fail(None, None, "row.too_many_values", extra=table.overflow[line])
            if checker.row_failed:
                rejected[line] = checker.issues[before:]
            else:
                records.append((line, record))
            self.progress.advance()
        row_count = len(table.rows)
        if not self.keep_rows:
            table.rows = []
        return _Checked(table, records, rejected, row_count)

    def _reject(self, item: _Checked, at: int, column: str, value: str, key: str, **fields: Any) -> None:
        issue = ImportIssue(item.table.label, at, column, value, key, fields)
        item.rejected.setdefault(at, []).append(issue)

    def _existing_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(ids))
        found: set[str] = set()
        for chunk in _chunks(wanted):
            found.update(self.session.scalars(select(Enterprise.id).where(Enterprise.id.in_(chunk))))
        return found

    def validate(self, tables: list[SourceTable]) -> list[_Checked]:
        ids_with_uscc = self._ids_with_uscc(
            [row.get("id", "").strip() for t in tables if t.kind == "companies" for _, row in t.rows]
        )
        ordered = sorted(tables, key=lambda t: IMPORT_ORDER.index(t.kind))
        checked = [self._check_table(t, ids_with_uscc) for t in ordered]
        # Cross-row checks on companies: unique ids and USCCs within the import and against the database.
        first_line_of_id: dict[str, tuple[str, int]] = {}
        first_line_of_uscc: dict[str, tuple[str, int]] = {}
        for item in (c for c in checked if c.table.kind == "companies"):
            kept = []
            for line, record in item.records:
                seen = first_line_of_id.get(record["id"])
                if seen:
                    self._reject(item, line, "id", record["id"], "row.duplicate_id", line=seen[1])
                    continue
                code = record["uscc"]
                if code and code in first_line_of_uscc:
                    seen_u = first_line_of_uscc[code]
                    self._reject(item, line, "uscc", code, "uscc.duplicate_in_file", line=seen_u[1])
                    continue
                first_line_of_id[record["id"]] = (item.table.label, line)
                if code:
                    first_line_of_uscc[code] = (item.table.label, line)
                kept.append((line, record))
            item.records = kept
        owners = self._uscc_owners(list(first_line_of_uscc))
        for item in (c for c in checked if c.table.kind == "companies"):
            kept = []
            for line, record in item.records:
                owner = owners.get(record["uscc"]) if record["uscc"] else None
                if owner is not None and owner != record["id"]:
                    self._reject(item, line, "uscc", record["uscc"], "uscc.conflict", other=owner)
                    continue
                kept.append((line, record))
            item.records = kept
        company_ids = {r["id"] for c in checked if c.table.kind == "companies" for _, r in c.records}
        referenced = {
            r["enterprise_id"] for c in checked if c.table.kind != "companies" for _, r in c.records
        } - company_ids
        known = company_ids | self._existing_ids(referenced)
        for item in (c for c in checked if c.table.kind != "companies"):
            kept = []
            for line, record in item.records:
                if record["enterprise_id"] not in known:
                    self._reject(item, line, "company_id", record["enterprise_id"], "company.unknown")
                    continue
                kept.append((line, record))
            item.records = kept
        for item in checked:
            counts = self.report.counts[item.table.kind]
            counts.read += item.row_count
            counts.rejected += len(item.rejected)
            for line in sorted(item.rejected):
                self.report.issues.extend(item.rejected[line])
        return checked

    def _ids_with_uscc(self, ids: list[str]) -> frozenset[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(ids))):
            query = select(Enterprise.id).where(Enterprise.id.in_(chunk), Enterprise.uscc.is_not(None))
            found.update(self.session.scalars(query))
        return frozenset(found)

    def _uscc_owners(self, codes: list[str]) -> dict[str, str]:
        owners: dict[str, str] = {}
        for chunk in _chunks(sorted(codes)):
            for code, owner in self.session.execute(
                select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(chunk))
            ):
                if code is not None:
                    owners[code] = owner
        return owners

    # ---- writing ----------------------------------------------------------------------------------

    def _insert(self, table: Table, rows: list[dict[str, Any]], *, count_progress: bool = True) -> None:
        """Bulk insert through the driver's ``executemany``.

        SQLAlchemy's own executemany builds a parameter dict per row, which dominated large imports; here
        each column's bind processor (the same conversions SQLAlchemy applies) runs in one tight loop.
        Columns a row leaves out get the column's scalar default, or NULL.
        """
        if not rows:
            return
        connection = self.session.connection()
        dialect = connection.dialect
        columns = [c for c in table.columns if c.name in rows[0] or c.default is not None]
        names = [c.name for c in columns]
        processors: list[Callable[[Any], Any] | None] = [
            c.type._cached_bind_processor(dialect) for c in columns
        ]
        defaults: list[Any] = []
        callable_defaults: dict[int, Any] = {}
        for i, column in enumerate(columns):
            default = column.default
            if isinstance(default, ColumnDefault) and default.is_callable:
                callable_defaults[i] = default.arg
            defaults.append(default.arg if isinstance(default, ColumnDefault) and default.is_scalar else None)
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        quote = dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join([marker] * len(names))})"
        )
        if dialect.name == "sqlite":
            # SQLAlchemy's SQLite DATE format is the ISO date; date.isoformat is much faster.
            processors = [
                _iso_date if isinstance(c.type, Date) and not isinstance(c.type, DateTime) else p
                for c, p in zip(columns, processors, strict=True)
            ]
        for chunk in _chunks(rows, 5000):
            values_by_column = []
            for i, name in enumerate(names):
                processor = processors[i]
                if name in chunk[0]:
                    values = [row.get(name) for row in chunk]
                    if processor is not None:
                        values = [None if v is None else processor(v) for v in values]
                else:  # the default is the same for the whole chunk: convert it once
                    value = callable_defaults[i](None) if i in callable_defaults else defaults[i]
                    if processor is not None and value is not None:
                        value = processor(value)
                    values = [value] * len(chunk)
                values_by_column.append(values)
            params = list(zip(*values_by_column, strict=True))
            connection.exec_driver_sql(sql, params)
            if count_progress:
                self.progress.advance(len(chunk))

    def write(self, checked: list[_Checked]) -> None:
        by_kind: dict[str, list[Record]] = defaultdict(list)
        for item in checked:
            by_kind[item.table.kind].extend(record for _, record in item.records)
        total = sum(len(v) for v in by_kind.values())
        self.progress.stage("write", total)
        statuses = self._write_enterprises(by_kind["companies"])
        self._write_rounds(by_kind["rounds"])
        self._write_valuations(by_kind["valuations"])
        self._write_reports(by_kind["operating_reports"])
        for kind in EVENT_KINDS_BY_FILE:
            self._write_events(kind, by_kind[kind])
        # The status file's own rows first: on the same status and date they carry the more specific source.
        self._write_statuses(by_kind["status_history"], from_companies=statuses)

    def _write_enterprises(self, records: list[Record]) -> list[Record]:
        counts = self.report.counts["companies"]
        table = _table(Enterprise)
        ids = [r["id"] for r in records]
        existing: dict[str, Any] = {}
        tracks: dict[str, set[str]] = defaultdict(set)
        for chunk in _chunks(ids):
            for row in self.session.execute(select(table).where(table.c.id.in_(chunk))).mappings():
                existing[row["id"]] = row
            for eid, code in self.session.execute(
                select(EnterpriseTrack.enterprise_id, EnterpriseTrack.track_code).where(
                    EnterpriseTrack.enterprise_id.in_(chunk)
                )
            ):
                tracks[eid].add(code)
        now = utcnow()
        new_rows: list[dict[str, Any]] = []
        changed_rows: list[dict[str, Any]] = []
        track_deletes: list[str] = []
        track_rows: list[dict[str, Any]] = []
        statuses: list[Record] = []
        for r in records:
            old = existing.get(r["id"])
            as_of = r["status_as_of"]
            if old is None and r["status"] and as_of is None and r["status"] != DEFAULT_STATUS:
                as_of = self.today  # a new, non-default status without a date is observed today
            if r["status"] and (old is not None or as_of is not None):
                statuses.append(
                    {
                        "enterprise_id": r["id"],
                        "status": r["status"],
                        "as_of": as_of,
                        "source": r["source"],
                        "is_synthetic": r["is_synthetic"],
                    }
                )
            if old is None:
                new_row = {k: r[k] for k in ENTERPRISE_FIELDS}
                # The row's own status is its first history entry (see _write_statuses): set it now rather
                # than update every new enterprise afterwards. Without a date, the default says nothing.
                observed = r["status"] and as_of is not None
                new_row.update(
                    id=r["id"], status=r["status"] if observed else DEFAULT_STATUS,
                    status_as_of=as_of if observed else None,
                    is_synthetic=r["is_synthetic"], attributes=r["attributes"],
                    created_at=now, updated_at=now,
                )  # fmt: skip
                new_rows.append(new_row)
                track_rows.extend({"enterprise_id": r["id"], "track_code": code} for code in r["tracks"])
                continue
            merged = {k: (r[k] if r[k] is not None else old[k]) for k in ENTERPRISE_FIELDS}
            merged["is_synthetic"] = r["is_synthetic"] if r["synthetic_stated"] else old["is_synthetic"]
            attributes = dict(old["attributes"] or {})
            attributes.update(r["attributes"] or {})
            merged["attributes"] = attributes or None
            differs = any(merged[k] != old[k] for k in merged)
            if r["tracks"] and set(r["tracks"]) != tracks.get(r["id"], set()):
                differs = True
                track_deletes.append(r["id"])
                track_rows.extend({"enterprise_id": r["id"], "track_code": code} for code in r["tracks"])
            if differs:
                merged.update(_id=r["id"], updated_at=now)
                changed_rows.append(merged)
            else:
                counts.unchanged += 1
                self._unchanged_companies.add(r["id"])
        self._insert(table, new_rows)
        counts.inserted += len(new_rows)
        if changed_rows:
            stmt = update(table).where(table.c.id == bindparam("_id"))
            for chunk in _chunks(changed_rows):
                self.session.execute(stmt, list(chunk))
            counts.updated += len(changed_rows)
        track_table = _table(EnterpriseTrack)
        for chunk in _chunks(track_deletes):
            self.session.execute(track_table.delete().where(track_table.c.enterprise_id.in_(chunk)))
        if track_rows:
            self._insert(track_table, track_rows, count_progress=False)
        return statuses

    def _investor_ids(self, names: set[str]) -> dict[str, int]:
        table = _table(Investor)
        ordered = sorted(names)

        def lookup(wanted: list[str]) -> dict[str, int]:
            found: dict[str, int] = {}
            for chunk in _chunks(wanted):
                query = select(table.c.name, table.c.id).where(table.c.name.in_(chunk))
                found.update(self.session.execute(query).tuples().all())
            return found

        ids = lookup(ordered)
        missing = [n for n in ordered if n not in ids]
        now = utcnow()
        self._insert(table, [{"name": n, "created_at": now} for n in missing], count_progress=False)
        ids.update(lookup(missing))
        return ids

    def _existing_keys(
        self, table: Table, columns: Sequence[str], enterprise_ids: Iterable[str]
    ) -> set[tuple[Any, ...]]:
        keys: set[tuple[Any, ...]] = set()
        cols = [table.c[c] for c in columns]
        for chunk in _chunks(sorted(set(enterprise_ids))):
            keys.update(
                tuple(row)
                for row in self.session.execute(select(*cols).where(table.c.enterprise_id.in_(chunk)))
            )
        return keys

    def _write_rounds(self, records: list[Record]) -> None:
        table = _table(FundingRound)
        identity = ("enterprise_id", "announced_on", "round_type", "amount_key")
        fresh = self._new_by_identity("rounds", table, identity, records)
        # Ids are allocated up front so that investor links need no read-back of the new rows.
        ids = self._allocate_ids(table, len(fresh))
        columns = [c.name for c in table.columns if c.name != "id"]
        now = utcnow()
        rows = [
            {c: r.get(c) for c in columns} | {"id": i, "created_at": now}
            for r, i in zip(fresh, ids, strict=True)
        ]
        self._insert(table, rows)
        with_investors = [(row["id"], r) for row, r in zip(rows, fresh, strict=True) if r["investors"]]
        if not with_investors:
            return
        investor_ids = self._investor_ids({name for _, r in with_investors for name in r["investors"]})
        links = [
            {"round_id": round_id, "investor_id": investor_ids[name], "position": i}
            for round_id, r in with_investors
            for i, name in enumerate(r["investors"])
        ]
        self._insert(_table(RoundInvestor), links, count_progress=False)

    def _allocate_ids(self, table: Table, n: int) -> list[int]:
        """``n`` fresh primary keys for ``table``.

        PostgreSQL hands them out from the table's sequence, safe under concurrent writers. SQLite has one
        writer at a time: inside this transaction, after the import's first write, max(id) is stable.
        """
        if n == 0:
            return []
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
            return list(connection.execute(query, {"table": table.name, "n": n}).scalars())
        start = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        return list(range(start + 1, start + 1 + n))

    def _new_by_identity(
        self, kind: str, table: Table, identity: Sequence[str], records: list[Record]
    ) -> list[Record]:
        """The records whose identity is neither stored nor repeated earlier in this import."""
        counts = self.report.counts[kind]
        existing = self._existing_keys(table, identity, (r["enterprise_id"] for r in records))
        fresh = []
        for r in records:
            key = tuple(r[c] for c in identity)
            if key in existing:
                counts.unchanged += 1
                continue
            existing.add(key)
            fresh.append(r)
        counts.inserted += len(fresh)
        return fresh

    def _write_valuations(self, records: list[Record]) -> None:
        table = _table(Valuation)
        identity = ("enterprise_id", "as_of", "value", "currency", "evidence", "source")
        now = utcnow()
        self._insert(
            table,
            [r | {"recorded_at": now} for r in self._new_by_identity("valuations", table, identity, records)],
        )

    def _write_reports(self, records: list[Record]) -> None:
        counts = self.report.counts["operating_reports"]
        table = _table(OperatingReport)
        existing: dict[tuple[str, int], Any] = {}
        for chunk in _chunks(sorted({r["enterprise_id"] for r in records})):
            for row in self.session.execute(select(table).where(table.c.enterprise_id.in_(chunk))).mappings():
                existing[(row["enterprise_id"], row["year"])] = row
        now = utcnow()
        pending: dict[tuple[str, int], Record] = {}  # new rows; a repeat later in the import merges in
        changed: dict[int, dict[str, Any]] = {}  # stored rows to update, by id
        for r in records:
            key = (r["enterprise_id"], r["year"])
            base = pending.get(key) or existing.get(key)
            if base is None:
                pending[key] = r | {"updated_at": now}
                counts.inserted += 1
                continue
            merged = {k: (r[k] if r[k] is not None else base[k]) for k in REPORT_FIELDS}
            merged["is_synthetic"] = r["is_synthetic"] if r["synthetic_stated"] else base["is_synthetic"]
            if all(merged[k] == base[k] for k in merged):
                counts.unchanged += 1
                continue
            counts.updated += 1
            if key in pending:
                pending[key] = pending[key] | merged
            else:
                existing[key] = {**base, **merged}
                changed[base["id"]] = merged | {"_id": base["id"], "updated_at": now}
        self._insert(table, list(pending.values()))
        if changed:
            self.session.execute(update(table).where(table.c.id == bindparam("_id")), list(changed.values()))

    def _write_events(self, kind: str, records: list[Record]) -> None:
        table = _table(LifecycleEvent)
        identity = ("enterprise_id", "kind", "occurred_on", "counterpart")
        now = utcnow()
        self._insert(
            table, [r | {"recorded_at": now} for r in self._new_by_identity(kind, table, identity, records)]
        )

    def _write_statuses(self, file_rows: list[Record], *, from_companies: list[Record]) -> None:
        """Add status observations to the history; an enterprise's status is its latest by as-of date.

        ``file_rows`` come from status_history files and are counted there (each one inserted or
        unchanged); ``from_companies`` are the status columns of companies rows, already counted as
        companies: an unchanged company whose status adds a history row is counted as updated instead.
        """
        table = _table(StatusRecord)
        observations = file_rows + from_companies
        enterprise_ids = sorted({o["enterprise_id"] for o in observations})
        history: dict[str, list[tuple[dt.date, int, str]]] = defaultdict(list)
        current: dict[str, tuple[str, dt.date | None]] = {}
        for chunk in _chunks(enterprise_ids):
            for eid, status, as_of, rid in self.session.execute(
                select(table.c.enterprise_id, table.c.status, table.c.as_of, table.c.id).where(
                    table.c.enterprise_id.in_(chunk)
                )
            ):
                history[eid].append((as_of, rid, status))
            for eid, status, as_of in self.session.execute(
                select(Enterprise.id, Enterprise.status, Enterprise.status_as_of).where(
                    Enterprise.id.in_(chunk)
                )
            ):
                current[eid] = (status, as_of)
        counts = self.report.counts["status_history"] if file_rows else KindCounts()
        now = utcnow()
        fresh: list[dict[str, Any]] = []
        sequence = 1 << 40  # new rows sort after stored ones on equal dates
        for position, o in enumerate(observations):
            from_file = position < len(file_rows)
            eid = o["enterprise_id"]
            entries = history[eid]
            latest = max(entries)[2] if entries else None
            as_of = o["as_of"]
            if as_of is None:  # only a companies row's status may come without a date
                if latest == o["status"] or (latest is None and o["status"] == current[eid][0]):
                    continue
                as_of = self.today
            if any(e[0] == as_of and e[2] == o["status"] for e in entries):
                if from_file:
                    counts.unchanged += 1
                continue
            sequence += 1
            entries.append((as_of, sequence, o["status"]))
            fresh.append(o | {"as_of": as_of, "recorded_at": now})
            if from_file:
                counts.inserted += 1
            elif eid in self._unchanged_companies:
                self._unchanged_companies.discard(eid)
                self.report.counts["companies"].unchanged -= 1
                self.report.counts["companies"].updated += 1
        self._insert(table, fresh)
        changes = []
        for eid in enterprise_ids:
            if not history[eid]:
                continue
            as_of, _, status = max(history[eid])
            if current.get(eid) != (status, as_of):
                changes.append({"_id": eid, "status": status, "status_as_of": as_of})
        if changes:
            etable = _table(Enterprise)
            self.session.execute(update(etable).where(etable.c.id == bindparam("_id")), changes)


def _write_rejects(checked: list[_Checked]) -> dict[Path, int]:
    written: dict[Path, int] = {}
    for item in checked:
        if not item.rejected:
            continue
        table = item.table
        stem = table.path.with_suffix("").name + (f".{table.sheet}" if table.sheet else "")
        target = table.path.with_name(stem + REJECTS_SUFFIX)
        rows = dict(table.rows)

        def write(path: Path, item: _Checked = item, rows: dict[int, dict[str, str]] = rows) -> None:
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(["line", "column", "error_zh", "error_en", *item.table.columns])
                for line in sorted(item.rejected):
                    issues = item.rejected[line]
                    writer.writerow(
                        [
                            line,
                            ";".join(i.column or "" for i in issues),
                            "；".join(i.reason("zh") for i in issues),
                            "; ".join(i.reason("en") for i in issues),
                            *(rows[line].get(c, "") for c in item.table.columns),
                        ]
                    )

        try:
            write_atomically(target, write)
        except OutputError:
            for done in written:  # the import is refused: no rejects file may describe it
                done.unlink(missing_ok=True)
            raise
        written[target] = len(item.rejected)
    return written


def import_package(
    session: Session,
    *,
    paths: list[Path],
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    actor: Actor | None = None,
) -> ImportReport:
    """Validate and write a data package inside the caller's transaction.

    Nothing is written when any row is invalid (unless ``skip_invalid``). With ``dry_run`` the work is done
    and the counts reported, but the caller must roll back; rejects files are only written for real runs.
    """
    importer = _Importer(session, progress or Silent(), today_(), keep_rows=skip_invalid and not dry_run)
    tables, file_issues = read_package(paths)
    report = importer.report
    if file_issues:
        report.issues.extend(file_issues)
        return report
    checked = importer.validate(tables)
    if report.issues and not skip_invalid:
        return report
    started = utcnow()
    importer.write(checked)
    run = ImportRun(
        started_at=started,
        finished_at=utcnow(),
        actor=getpass.getuser(),
        files=[
            {
                "path": str(item.table.path),
                "sheet": item.table.sheet,
                "kind": item.table.kind,
                "rows": item.row_count,
                "sha256": _digest(item.table.path),
            }
            for item in checked
        ],
        counts={
            k: {
                "read": c.read,
                "inserted": c.inserted,
                "updated": c.updated,
                "unchanged": c.unchanged,
                "rejected": c.rejected,
            }
            for k, c in report.counts.items()
        },
        skipped_invalid=sum(c.rejected for c in report.counts.values()),
    )
    session.add(run)
    session.flush()
    # One audit row per import (in the import's transaction): the counts and file digests, not every row.
    audit_record(
        session,
        actor=actor or Actor.cli(),
        action="registry.import",
        subject_type="import_run",
        subject_id=run.id,
        new={"files": run.files, "counts": run.counts, "skipped_invalid": run.skipped_invalid},
    )
    report.import_run_id = run.id
    REGISTRY_WRITES[0] += 1
    report.written = not dry_run
    if skip_invalid and not dry_run:
        try:
            report.rejects_files = _write_rejects(checked)
        except OutputError as error:  # the rejected rows would be lost: refuse the import (rolled back)
            report.issues.append(
                ImportIssue(
                    error.path.name, None, None, None, "import.rejects_unwritable",
                    {"path": str(error.path), "zh": error.zh, "en": error.en},
                )
            )  # fmt: skip
            report.written = False
            report.import_run_id = None
    return report
