"""CLI of the scoring feature: ``qilin scoring rank``, ``qilin scoring indexes``, ``… indicators``.

Thin: parse, call :func:`qilin.scoring.service.rank`, render (Rich table, CSV or JSON).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qilin.common.dates import parse_iso_date, today
from qilin.common.export_safety import safe_cell
from qilin.scoring.errors import ScoringError
from qilin.scoring.evaluate import ScoringResult
from qilin.scoring.index import DEFAULT_INDEX, IndexDefinition, get_index, load_index, shipped_indexes
from qilin.scoring.indicators import INDICATORS
from qilin.scoring.messages import both

app = typer.Typer(help="指标体系评分 / index-system scoring of the key indicators", no_args_is_help=True)

FORMATS = ("table", "csv", "json")
RANKING_LABELS = {"topsis": "TOPSIS 贴近度", "weighted_sum": "线性加权"}
WEIGHT_LABELS = {"ahp": "层次分析法", "entropy": "熵权法", "combined": "组合赋权"}


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(message, style="bold red", markup=False, highlight=False)
    return typer.Exit(2)


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _csv(result: ScoringResult, limit: int | None, synthetic: frozenset[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    indicators = [s.indicator for s in result.indicators]
    writer.writerow(
        [
            "company_id",
            "name",
            "score",
            "rank",
            "weighted_sum",
            "distance_best",
            "distance_worst",
            *(f"contribution_{name}" for name in indicators),
            "imputed",
            "synthetic",
        ]
    )
    for s in result.scores[:limit]:
        writer.writerow(
            [
                safe_cell(s.company_id),
                safe_cell(s.name),
                _number(s.score),
                s.rank,
                _number(s.weighted_sum),
                _number(s.distance_best),
                _number(s.distance_worst),
                *(_number(c.contribution) for c in s.contributions),
                ";".join(f"{c.indicator}:{c.imputation}" for c in s.imputed),
                int(s.company_id in synthetic),
            ]
        )
    return buffer.getvalue()


def _json(result: ScoringResult, index: IndexDefinition, limit: int | None, synthetic: frozenset[str]) -> str:
    payload: dict[str, Any] = result.as_dict()
    payload["index"].update(title_zh=index.title_zh, title_en=index.title_en, path=index.path)
    payload["scores"] = payload["scores"][:limit]
    for score in payload["scores"]:
        score["synthetic"] = score["company_id"] in synthetic
    payload["ranked"] = len(result.scores)
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def _table(
    result: ScoringResult, index: IndexDefinition, limit: int | None, synthetic: frozenset[str]
) -> Table:
    as_of = result.as_of.isoformat() if result.as_of else ""
    weights = "，".join(f"{g.name_zh} {g.weight:.3f}" for g in result.groups)
    method = WEIGHT_LABELS[result.weight_method]
    if result.alpha is not None:
        method += f"（AHP 占 {result.alpha:g}）"
    cr = (
        f"，一级 CR = {result.root_consistency_ratio:.4f}"
        if result.root_consistency_ratio is not None
        else ""
    )
    # Text, not str, for everything that comes from the registry or an index file: an enterprise called
    # "Evil[/bold]" is shown as it is, never read as Rich markup.
    table = Table(
        title=Text(f"{index.title_zh}（截至 {as_of}）"),
        caption=Text(f"排序：{RANKING_LABELS[result.ranking]}；赋权：{method}{cr}；组权重：{weights}"),
    )
    table.add_column("排名", justify="right")
    table.add_column("企业编号")
    table.add_column("企业名称")
    table.add_column("得分", justify="right")
    for group in result.groups:
        table.add_column(Text(group.name_zh), justify="right")
    table.add_column("补值指标")
    for s in result.scores[:limit]:
        by_group = s.group_contributions()
        table.add_row(
            str(s.rank),
            Text(s.company_id),
            Text(f"【模拟】{s.name}" if s.company_id in synthetic else s.name),
            f"{s.score:.4f}",
            *(f"{by_group.get(g.id, 0.0):.4f}" for g in result.groups),
            "、".join(INDICATORS[c.indicator].label_zh for c in s.imputed) or "—",
        )
    return table


@app.command("rank")
def rank_command(
    as_of: str = typer.Option(..., "--as-of", help="评价日期 YYYY-MM-DD / as-of date"),
    index: str = typer.Option(
        DEFAULT_INDEX, "--index", help="指标体系名称或 YAML 文件 / shipped index name or a YAML file"
    ),
    output_format: str = typer.Option("table", "--format", help="table | csv | json"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="只输出前 N 名 / only the top N"),
) -> None:
    """按指标体系为存续企业评分排名 / Score and rank the operating enterprises as of a date."""
    try:
        on: dt.date = parse_iso_date(as_of)
    except ValueError:
        raise _fail(both("cli.bad_date", value=as_of)) from None
    if on > today():
        raise _fail(both("cli.future_date", value=on.isoformat(), today=today().isoformat()))
    if output_format not in FORMATS:
        raise _fail(both("cli.bad_format", value=output_format))
    try:
        definition = get_index(index)
    except ScoringError as exc:
        raise _fail(str(exc)) from None

    from sqlalchemy import select

    from qilin.cli import require_migrated
    from qilin.db import session_scope
    from qilin.registry.models import Enterprise
    from qilin.scoring.service import first_data_on, rank

    require_migrated()
    with session_scope() as session:
        result = rank(session, as_of=on, index=definition)
        first = first_data_on(session)
        # 模拟数据 is labelled wherever it is shown.
        synthetic = frozenset(session.scalars(select(Enterprise.id).where(Enterprise.is_synthetic)))

    err = Console(stderr=True)
    if not result.scores:
        err.print(both("cli.none_scored", as_of=on.isoformat()), style="yellow")
    elif first is None:
        err.print(both("cli.no_data"), style="yellow", highlight=False)
    elif on < first:
        err.print(both("cli.before_data", as_of=on.isoformat(), first=first.isoformat()), style="yellow")
    if output_format == "csv":
        typer.echo(_csv(result, limit, synthetic), nl=False)
    elif output_format == "json":
        typer.echo(_json(result, definition, limit, synthetic), nl=False)
    else:
        Console().print(_table(result, definition, limit, synthetic))
        imputed = sum(1 for s in result.scores if s.imputed)
        if imputed:
            err.print(both("cli.imputed", count=imputed), highlight=False)
    if result.excluded:
        err.print(both("cli.excluded", count=len(result.excluded)), highlight=False)


@app.command("indexes")
def indexes_command() -> None:
    """列出随平台发布的指标体系 / List the shipped index files."""
    table = Table(title="指标体系 / index files")
    for column in ("名称 name", "标题 title", "排序 ranking", "赋权 weights", "指标数 indicators", "最大 CR"):
        table.add_column(column)
    for path in shipped_indexes():
        try:
            definition = load_index(path)
        except ScoringError as exc:
            table.add_row(Text(path.stem), Text(str(exc)), "", "", "", "")
            continue
        crs = [result.consistency_ratio for _, result in definition.consistency()]
        name = path.stem + (" *" if path.stem == DEFAULT_INDEX else "")
        table.add_row(
            Text(name),
            Text(definition.title_zh),
            definition.ranking,
            definition.weights.method
            + (f" α={definition.weights.alpha:g}" if definition.weights.alpha is not None else ""),
            str(len(definition.leaves)),
            f"{max(crs):.4f}" if crs else "—",
        )
    Console().print(table)
    Console().print(f"* 默认 / default: {DEFAULT_INDEX}")


@app.command("indicators")
def indicators_command() -> None:
    """列出可在指标体系中使用的指标 / List the indicators an index file may name."""
    table = Table(title="指标库 / indicators")
    for column in ("指标 indicator", "名称", "含义", "meaning"):
        table.add_column(column)
    for indicator in INDICATORS.values():
        table.add_row(indicator.name, indicator.label_zh, indicator.meaning_zh, indicator.meaning_en)
    Console().print(table)
