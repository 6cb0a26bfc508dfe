"""CLI of the gradient cultivation database: ``qilin tiers evaluate|explain|snapshot|diff|standards``."""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import json
import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from qilin.common.export_safety import safe_cell
from qilin.common.messages import both, t
from qilin.db import session_scope
from qilin.tiers.explain import reason_text, render, tier_name
from qilin.tiers.service import (
    TierError,
    diff_snapshots,
    evaluate_registry,
    explain,
    find_snapshot,
    take_snapshot,
)
from qilin.tiers.standards import (
    DEFAULT_STANDARD,
    TIER_CODES,
    StandardError,
    UnknownStandardError,
    all_standards,
    check_versions,
    read_standard,
    same_rules,
)

app = typer.Typer(help="梯度培育库 / gradient cultivation database", no_args_is_help=True)
# Names, reasons and standards come from the database and from files: never read as Rich markup (an
# enterprise named "Evil[/bold]" would crash the table) or as emoji codes.
console = Console(markup=False, emoji=False)
err = Console(stderr=True, markup=False, emoji=False)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Lang(StrEnum):
    zh = "zh"
    en = "en"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"日期应为 YYYY-MM-DD / dates are YYYY-MM-DD: {text!r}") from None


AS_OF = typer.Option(..., "--as-of", help="评定日期 YYYY-MM-DD / as-of date", parser=_date)
STANDARD = typer.Option(DEFAULT_STANDARD, "--standard", help="标准编号 / standard id")


def _fail(exc: Exception) -> typer.Exit:
    err.print(str(exc), style="bold red", markup=False, highlight=False)
    return typer.Exit(1)


def _print(message: str) -> None:
    console.print(message, markup=False, highlight=False)


def _require_db() -> None:
    from qilin.cli import require_migrated

    require_migrated()


@app.command("standards")
def standards_command() -> None:
    """列出标准及其版本 / List the standards and their versions."""
    table = Table(title="标准 / standards")
    for column in ("编号 id", "版本 version", "名称 name", "生效 effective", "梯队 tiers"):
        table.add_column(column)
    try:
        standards = all_standards()
    except StandardError as exc:
        raise _fail(exc) from None
    for s in standards:
        period = f"{s.effective_from} ~ {s.effective_to or ''}"
        tiers = "、".join(tier_name(rule.tier) for rule in s.tiers)
        table.add_row(s.id, str(s.version), s.name_zh, period, tiers)
    console.print(table)


@app.command("check-standard")
def check_standard_command(path: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """检查标准文件（格式、标准项、与现有版本的生效期）/ Check a standard file before installing it."""
    try:
        standard = read_standard(path)
        installed = all_standards()
        # The file may be one already installed (a shipped standard, or one in QILIN_STANDARDS_DIR): it is
        # checked against the others, not against its own copy.
        same = [s for s in installed if same_rules(s, standard)]
        check_versions([*(s for s in installed if s not in same), standard])
    except StandardError as exc:
        raise _fail(exc) from None
    if same:
        _print(both("tiers.standard_installed", key=standard.key))
        return
    _print(
        both(
            "tiers.standard_valid",
            key=standard.key,
            tiers=len(standard.tiers),
            effective=standard.effective_from.isoformat(),
        )
    )


@app.command("evaluate")
def evaluate_command(
    as_of: dt.date = AS_OF,
    standard: str = STANDARD,
    fmt: Format = typer.Option(Format.table, "--format", help="table | csv | json"),
) -> None:
    """按标准评定全部企业的梯队 / Evaluate every enterprise's tier as of a date."""
    _require_db()
    try:
        with session_scope() as session:
            evaluation = evaluate_registry(session, as_of=as_of, standard_id=standard)
    except (UnknownStandardError, StandardError, TierError) as exc:
        raise _fail(exc) from None
    std = evaluation.standard
    if evaluation.retroactive:
        err.print(
            f"注意：{as_of} 早于标准生效日 {std.effective_from}，为追溯适用 / note: {as_of} precedes "
            f"the standard's effective date {std.effective_from}; applied retroactively",
            style="yellow",
            markup=False,
        )
    if fmt == Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(
            [
                "company_id",
                "name",
                "tier",
                "standard",
                "standard_version",
                "as_of",
                "exclusions",
                "synthetic",
                "retroactive",
            ]
        )
        for r in evaluation.results:
            writer.writerow(
                [safe_cell(r.enterprise_id), safe_cell(evaluation.names.get(r.enterprise_id, "")), r.tier,
                 std.id, std.version, as_of.isoformat(), ";".join(r.exclusions),
                 int(r.enterprise_id in evaluation.synthetic), int(evaluation.retroactive)]
            )  # fmt: skip
        return
    if fmt == Format.json:
        payload = [
            {"company_id": r.enterprise_id, "name": evaluation.names.get(r.enterprise_id, ""), "tier": r.tier,
             "standard": std.id, "standard_version": std.version, "as_of": as_of.isoformat(),
             "exclusions": list(r.exclusions), "synthetic": r.enterprise_id in evaluation.synthetic,
             "retroactive": evaluation.retroactive}
            for r in evaluation.results
        ]  # fmt: skip
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
        return
    counts = Counter(r.tier for r in evaluation.results)
    table = Table(title=f"{std.name_zh}（{std.key}）截至 {as_of} / tiers as of {as_of}")
    table.add_column("梯队 tier")
    table.add_column("企业数 enterprises", justify="right")
    synthetic = Counter(r.tier for r in evaluation.results if r.enterprise_id in evaluation.synthetic)
    table.add_column("其中模拟 synthetic", justify="right")
    for code in TIER_CODES:
        table.add_row(tier_name(code), str(counts.get(code, 0)), str(synthetic.get(code, 0)))
    console.print(table)
    listed = [r for r in evaluation.results if r.tier != "none"]
    detail = Table(title="入库企业 / enterprises in a tier")
    for column in ("企业 id", "名称 name", "梯队 tier", "数据 data"):
        detail.add_column(column)
    order = {code: i for i, code in enumerate(TIER_CODES)}
    for r in sorted(listed, key=lambda r: (order[r.tier], r.enterprise_id)):
        badge = "模拟数据 synthetic" if r.enterprise_id in evaluation.synthetic else ""
        detail.add_row(r.enterprise_id, evaluation.names.get(r.enterprise_id, ""), tier_name(r.tier), badge)
    console.print(detail)
    reasons = Counter(reason for r in evaluation.results for reason in r.exclusions)
    why = Table(title="未入库原因 / why not in a tier")
    why.add_column("原因 reason")
    why.add_column("企业数 enterprises", justify="right")
    for reason, n in reasons.most_common():
        why.add_row(reason_text(reason), str(n))
    console.print(why)


@app.command("explain")
def explain_command(
    company_id: str = typer.Argument(..., help="企业编号 / enterprise id"),
    as_of: dt.date = AS_OF,
    standard: str = STANDARD,
    lang: Lang = typer.Option(Lang.zh, "--lang", help="zh | en"),
) -> None:
    """逐项说明企业为何处于该梯队 / Explain an enterprise's tier criterion by criterion."""
    _require_db()
    try:
        with session_scope() as session:
            evaluation = explain(session, enterprise_id=company_id, as_of=as_of, standard_id=standard)
    except (UnknownStandardError, StandardError, TierError) as exc:
        raise _fail(exc) from None
    result = evaluation.results[0]
    text = render(
        result,
        evaluation.standard,
        name=evaluation.names.get(company_id, ""),
        synthetic=company_id in evaluation.synthetic,
        lang=lang.value,
    )
    console.print(text, markup=False, highlight=False)


@app.command("snapshot")
def snapshot_command(as_of: dt.date = AS_OF, standard: str = STANDARD) -> None:
    """保存快照（不可修改）/ Store the tiers and traces as of a date (immutable)."""
    _require_db()
    try:
        with session_scope() as session:
            snapshot = take_snapshot(session, as_of=as_of, standard_id=standard, taken_by=getpass.getuser())
            counts, total, key = (
                snapshot.counts,
                snapshot.enterprises,
                f"{snapshot.standard_id}@v{snapshot.standard_version}",
            )
    except (UnknownStandardError, StandardError, TierError) as exc:
        raise _fail(exc) from None
    shown = "，".join(f"{tier_name(k)} {v}" for k, v in counts.items())
    _print(f"快照已保存 / snapshot stored: {key} 截至 {as_of}，{total} 家企业：{shown}")


@app.command("diff")
def diff_command(
    from_date: dt.date = typer.Option(..., "--from", parser=_date, help="起始快照日期 / earlier snapshot"),
    to_date: dt.date = typer.Option(..., "--to", parser=_date, help="结束快照日期 / later snapshot"),
    standard: str = STANDARD,
    fmt: Format = typer.Option(Format.table, "--format", help="table | csv | json"),
) -> None:
    """两次快照之间的变化（动态管理）/ What changed between two snapshots."""
    if from_date > to_date:
        dates = {"from_date": from_date.isoformat(), "to_date": to_date.isoformat()}
        raise _fail(TierError(both("tiers.diff_reversed", **dates)))
    _require_db()
    try:
        with session_scope() as session:
            before = find_snapshot(session, standard_id=standard, as_of=from_date)
            after = find_snapshot(session, standard_id=standard, as_of=to_date)
            changes = diff_snapshots(session, before=before, after=after)
    except TierError as exc:
        raise _fail(exc) from None
    if fmt == Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["company_id", "change", "from_tier", "to_tier", "reasons"])
        for c in changes:
            writer.writerow(
                [safe_cell(c.enterprise_id), c.change, c.from_tier, c.to_tier, ";".join(c.reasons)]
            )
        return
    if fmt == Format.json:
        payload = [
            {"company_id": c.enterprise_id, "change": c.change, "from_tier": c.from_tier,
             "to_tier": c.to_tier, "reasons": list(c.reasons)}
            for c in changes
        ]  # fmt: skip
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table(title=f"{standard}：{from_date} → {to_date}")
    for column in ("企业 id", "变化 change", "原梯队 from", "新梯队 to", "原因 reasons"):
        table.add_column(column)
    for c in changes:
        table.add_row(
            c.enterprise_id, t(f"diff.{c.change}"), tier_name(c.from_tier), tier_name(c.to_tier),
            "、".join(reason_text(r) for r in c.reasons),
        )  # fmt: skip
    console.print(table)
    summary = Counter(c.change for c in changes)
    _print("；".join(f"{t(f'diff.{k}')} {v}" for k, v in summary.most_common()) or "无变化 / no change")
