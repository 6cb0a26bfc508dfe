"""``qilin export``: write the registry back as a data package.

The output is deterministic (fixed column order, rows sorted by their identity), so importing an export into
an empty database and exporting again gives identical files. Files are written to a temporary folder first
and moved into place only when all are complete (:func:`qilin.common.files.write_folder_atomically`); an
output folder that cannot be written raises :class:`~qilin.common.files.OutputError` before any work.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qilin.common.files import write_folder_atomically
from qilin.registry.models import (
    Enterprise,
    EnterpriseTrack,
    FundingRound,
    Investor,
    LifecycleEvent,
    OperatingReport,
    RoundInvestor,
    StatusRecord,
    Valuation,
)
from qilin.registry.package import FILES
from qilin.registry.validate import decimal_text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _write(path: Path, columns: list[str], rows: Iterable[list[Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(v) for v in row])
            count += 1
    return count


def _sort_key(row: list[Any]) -> tuple[str, ...]:
    return tuple(_text(v) for v in row)


def export_package(session: Session, *, out_dir: Path) -> dict[str, int]:
    """Write every file of the data package into ``out_dir``; returns rows written per file. Raises
    :class:`~qilin.common.files.OutputError` when ``out_dir`` cannot be written (then no file changed)."""
    with write_folder_atomically(out_dir, [f"{kind}.csv" for kind in FILES]) as staging:
        return _export_into(session, staging)


def _export_into(session: Session, folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}

    tracks: dict[str, list[str]] = defaultdict(list)
    for eid, code in session.execute(select(EnterpriseTrack.enterprise_id, EnterpriseTrack.track_code)):
        tracks[eid].append(code)
    for codes in tracks.values():
        codes.sort()
    # Sorted in Python: the database's collation must not decide the file's order.
    enterprises = sorted(session.scalars(select(Enterprise)), key=lambda e: e.id)
    extra = sorted({k for e in enterprises for k in (e.attributes or {})})
    columns = list(FILES["companies"].columns) + extra
    counts["companies"] = _write(
        folder / "companies.csv",
        columns,
        (
            [
                e.id, e.name, e.uscc, e.name_en, e.founded_on, e.country, e.region_code, e.city,
                e.industry_code, e.category, ";".join(tracks[e.id]), e.status, e.status_as_of, e.source,
                e.is_synthetic, *((e.attributes or {}).get(k) for k in extra),
            ]
            for e in enterprises
        ),
    )  # fmt: skip

    investors: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for round_id, position, name in session.execute(
        select(RoundInvestor.round_id, RoundInvestor.position, Investor.name).join(Investor)
    ):
        investors[round_id].append((position, name))
    rounds = []
    for r in session.scalars(select(FundingRound)):
        amount = r.amount if r.amount is not None else r.amount_text
        post = r.post_money_valuation if r.post_money_valuation is not None else r.post_money_text
        names = ";".join(n for _, n in sorted(investors[r.id]))
        rounds.append(
            [
                r.enterprise_id, r.announced_on, r.round_type, r.round_label, amount, r.currency, post,
                r.post_money_currency, names, r.source, r.is_synthetic,
            ]
        )  # fmt: skip
    counts["rounds"] = _write(
        folder / "rounds.csv", list(FILES["rounds"].columns), sorted(rounds, key=_sort_key)
    )

    valuations = [
        [v.enterprise_id, v.as_of, v.value, v.currency, v.evidence, v.source, v.is_synthetic]
        for v in session.scalars(select(Valuation))
    ]
    counts["valuations"] = _write(
        folder / "valuations.csv", list(FILES["valuations"].columns), sorted(valuations, key=_sort_key)
    )

    reports = [
        [
            o.enterprise_id, o.year, o.revenue, o.net_profit, o.employees, o.rd_expense, o.rd_staff,
            o.invention_patents, o.source, o.is_synthetic,
        ]
        for o in session.scalars(select(OperatingReport))
    ]  # fmt: skip
    counts["operating_reports"] = _write(
        folder / "operating_reports.csv",
        list(FILES["operating_reports"].columns),
        sorted(reports, key=_sort_key),
    )

    by_file: dict[str, list[list[Any]]] = defaultdict(list)
    for e in session.scalars(select(LifecycleEvent)):
        if e.kind == "unicorn_list_entry":
            by_file["unicorn_events"].append([e.enterprise_id, e.occurred_on, e.source, e.is_synthetic])
        elif e.kind == "acquisition":
            by_file["acquisitions"].append(
                [e.enterprise_id, e.occurred_on, e.acquirer_name, e.price_amount, e.price_currency, e.source,
                 e.is_synthetic]
            )  # fmt: skip
        else:
            by_file["lifecycle_events"].append(
                [e.enterprise_id, e.kind, e.occurred_on, e.from_region_code, e.to_region_code, e.detail,
                 e.source, e.is_synthetic]
            )  # fmt: skip
    for kind in ("unicorn_events", "acquisitions", "lifecycle_events"):
        counts[kind] = _write(
            folder / f"{kind}.csv", list(FILES[kind].columns), sorted(by_file[kind], key=_sort_key)
        )

    statuses = [
        [s.enterprise_id, s.status, s.as_of, s.source, s.is_synthetic]
        for s in session.scalars(select(StatusRecord))
    ]
    counts["status_history"] = _write(
        folder / "status_history.csv", list(FILES["status_history"].columns), sorted(statuses, key=_sort_key)
    )
    return counts
