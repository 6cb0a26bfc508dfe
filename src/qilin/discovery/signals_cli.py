"""``qilin discover signals``: events worth an officer's attention (关注信号) since a date.

Thin: parse the options, call :func:`qilin.discovery.signals.find_signals`, render a table, CSV or JSON.
The lead registers it with ``discover_app.command("signals")(signals_command)``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qilin.common.dates import parse_iso_date, today
from qilin.common.messages import CATALOG, both
from qilin.common.money import format_cn
from qilin.db import session_scope
from qilin.discovery.signals import (
    EVIDENCE_NAMES,
    KIND_NAMES,
    KINDS,
    OUTCOME_NAMES,
    Signal,
    SignalRecord,
    find_signals,
)

console = Console()
err = Console(stderr=True)

SYNTHETIC_MARK = "【模拟】"
RECORD_NAMES = {"round": "融资", "valuation": "估值", "event": "事件"}


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _fail(message: str) -> typer.Exit:
    err.print(message, style="bold red", markup=False, emoji=False, highlight=False)
    return typer.Exit(1)


def _parse_date(text: str, option: str) -> dt.date:
    try:
        return parse_iso_date(text)
    except ValueError:
        raise _fail(f"{option} 日期应为 YYYY-MM-DD / {option} must be a date YYYY-MM-DD: {text!r}") from None


def _note_zh(kind: str, note: str) -> str:
    """A round's type (``series-b`` → B轮) or a valuation's evidence grade in Chinese."""
    if note == "post-money":
        return "投后估值"
    if kind == "round":
        round_type, _, written = note.partition(" ")
        entry = CATALOG.get(f"round_type.{round_type}")
        return " ".join(filter(None, [entry["zh"] if entry else round_type, written]))
    return EVIDENCE_NAMES.get(note, note)


def record_text(record: SignalRecord) -> str:
    """``融资#12 2024-01-05 B轮 2亿元`` — one record behind a signal, as the table shows it."""
    kind, _, number = record.ref.partition(":")
    parts = [f"{RECORD_NAMES.get(kind, kind)}#{number}", record.on.isoformat()]
    if kind == "event":
        parts.append(record.enterprise_id)
        parts.append(OUTCOME_NAMES.get(record.note, (record.note,))[0])
    elif record.note:
        parts.append(_note_zh(kind, record.note))
    if record.amount is not None:
        parts.append(format_cn(record.amount))
    return " ".join(parts)


def _record_json(record: SignalRecord) -> dict[str, Any]:
    return {
        "ref": record.ref,
        "date": record.on.isoformat(),
        "company_id": record.enterprise_id,
        "amount": None if record.amount is None else f"{record.amount.amount:.2f}",
        "currency": None if record.amount is None else record.amount.currency,
        "investors": list(record.investors),
        "note": record.note,
    }


def signal_json(s: Signal) -> dict[str, Any]:
    return {
        "date": s.on.isoformat(),
        "company_id": s.enterprise_id,
        "name": s.enterprise_name,
        "synthetic": s.is_synthetic,
        "kind": s.kind,
        "ratio": s.ratio_text() or None,
        "investor": s.investor,
        "backed": list(s.backed),
        "hits": list(s.hits),
        "description_zh": s.description_zh,
        "description_en": s.description_en,
        "records": [_record_json(r) for r in s.records],
    }


CSV_COLUMNS = (
    "date", "company_id", "name", "synthetic", "kind", "ratio", "investor",
    "description_zh", "description_en", "records",
)  # fmt: skip


def signals_command(
    since: str = typer.Option(..., "--since", help="起始日期 YYYY-MM-DD（含）/ first date, inclusive"),
    until: str | None = typer.Option(
        None, "--until", help="截止日期（含，默认今天）/ last date, default today"
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table | csv | json"),
    kind: str | None = typer.Option(None, "--kind", help=f"只看一类信号 / one kind: {' | '.join(KINDS)}"),
) -> None:
    """关注信号：融资额翻倍、快速再融资、估值跃升、优质机构入局 / Events worth an officer's attention."""
    start = _parse_date(since, "--since")
    end = _parse_date(until, "--until") if until is not None else today()
    if until is None and start > end:
        raise _fail(both("discover.since_after_today", since=start.isoformat(), today=end.isoformat()))
    if start > end:
        raise _fail(f"起始日期 {start} 晚于截止日期 {end} / --since {start} is after --until {end}")
    if kind is not None and kind not in KINDS:
        raise _fail(
            f"未知的信号类型：{kind}（可选 {'、'.join(KINDS)}）/ unknown kind {kind!r}: {', '.join(KINDS)}"
        )
    from qilin.cli import require_migrated

    require_migrated()
    with session_scope() as session:
        signals = find_signals(session, since=start, until=end, kinds=None if kind is None else [kind])
    if fmt == Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for s in signals:
            refs = ";".join(r.ref for r in s.records)
            writer.writerow(
                [s.on.isoformat(), s.enterprise_id, s.enterprise_name, int(s.is_synthetic), s.kind,
                 s.ratio_text(), s.investor or "", s.description_zh, s.description_en, refs]
            )  # fmt: skip
        return
    if fmt == Format.json:
        sys.stdout.write(json.dumps([signal_json(s) for s in signals], ensure_ascii=False, indent=1) + "\n")
        return
    table = Table(title=f"关注信号 {start} ~ {end} / signals")
    for column in ("日期 date", "企业 enterprise", "信号 signal", "说明 description", "依据 records"):
        table.add_column(column)
    for s in signals:
        name = f"{SYNTHETIC_MARK}{s.enterprise_name}" if s.is_synthetic else s.enterprise_name
        # Text, not str: names and investors from the registry are never read as Rich markup.
        table.add_row(
            s.on.isoformat(),
            Text(f"{name}\n{s.enterprise_id}"),
            KIND_NAMES[s.kind][0],
            Text(f"{s.description_zh}\n{s.description_en}"),
            Text("\n".join(record_text(r) for r in s.records)),
        )
    console.print(table)
    synthetic = sum(s.is_synthetic for s in signals)
    note = f"，其中模拟数据 {synthetic} 条 / {synthetic} on synthetic data" if synthetic else ""
    console.print(f"共 {len(signals)} 条信号 / {len(signals)} signals{note}", markup=False)
