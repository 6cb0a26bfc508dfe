"""``qilin discover``: train the discovery model, rank companies with reasons, back-test beside baselines.

Thin: parse, call :mod:`qilin.discovery.model` / :mod:`qilin.discovery.backtest`, render. Bad input
(a date not in ``YYYY-MM-DD``, a missing or empty folder, an as-of date before any round or after today, a
model file from another feature set, an ``--out`` that cannot be written) prints a bilingual message
(中文 / English) and exits with code 1.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from qilin.common.dates import local_time
from qilin.common.files import OutputError, prepare_output, write_atomically
from qilin.common.progress import RichProgress
from qilin.common.text import printable
from qilin.common.validation import MAX_SEED
from qilin.discovery.ai_leads import MAX_TOP as AI_MAX_TOP
from qilin.discovery.backtest import (
    METRICS,
    BacktestReport,
    cross_validate,
    walk_forward,
    walk_forward_dates,
)
from qilin.discovery.data import (
    MAX_HORIZON_YEARS,
    DataPackage,
    DiscoveryError,
    output_error,
    read_package,
)
from qilin.discovery.model import (
    DEFAULT_MODEL_PATH,
    check_as_of,
    first_round,
    load_model,
    rank,
    save_model,
    train,
)
from qilin.discovery.registry_data import package_from_db
from qilin.discovery.runs import RunError, list_runs, run_discovery
from qilin.discovery.signals_cli import signals_command

app = typer.Typer(
    help="AI 发现潜在独角兽：训练、排序、回测 / discover future unicorns: train, rank, back-test",
    no_args_is_help=True,
)
# No markup: what these print holds paths, names and model versions from files (a path "x[/b].csv" is not
# a style tag).
console = Console(width=160, markup=False) if not sys.stdout.isatty() else Console(markup=False)
errors = Console(stderr=True, soft_wrap=True, markup=False)

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_TREES = 10_000
"""The most trees (and bootstrap resamples) a command takes: more runs for hours and looks hung."""


class Lang(StrEnum):
    """The language of the reasons."""

    zh = "zh"
    en = "en"


DataOption = Annotated[Path, typer.Option("--data", help="数据包文件夹 / data package folder")]
SourceDataOption = Annotated[
    Path | None, typer.Option("--data", help="数据包文件夹（或用 --db）/ data package folder (or --db)")
]
DbOption = Annotated[
    bool,
    typer.Option("--db", help="从企业库读取（或用 --data）/ read the registry database (or --data)"),
]
AsOfOption = Annotated[str, typer.Option("--as-of", help="截止日期 YYYY-MM-DD / as-of date")]
HorizonOption = Annotated[
    int,
    typer.Option("--horizon-years", min=1, max=MAX_HORIZON_YEARS, help="预测期限（年）/ horizon in years"),
]
SeedOption = Annotated[int, typer.Option(min=0, max=MAX_SEED, help="随机种子 / random seed")]
TreesOption = Annotated[int, typer.Option(min=1, max=MAX_TREES, help="树的数量 / number of trees")]
TopOption = Annotated[int, typer.Option(min=1, help="每家企业理由条数 / reasons per company")]


def parse_date(text: str) -> dt.date:
    """A strict ISO date (``2013-10-01``); anything else raises ``DiscoveryError("date.bad_as_of")``."""
    if not _ISO.match(text.strip()):
        raise DiscoveryError("date.bad_as_of", value=text)
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as error:
        raise DiscoveryError("date.bad_as_of", value=text) from error


def _fail(error: DiscoveryError) -> typer.Exit:
    errors.print(printable(f"错误 / error: {error}"), style="bold red", markup=False, highlight=False)
    return typer.Exit(1)


def _output(out: Path) -> Path:
    """``--out`` checked (and its folder created) before the long work, so a typo costs no minutes; a
    device or pipe (``/dev/null``) is refused, as the atomic write would replace it with a file."""
    try:
        return prepare_output(out)
    except OutputError as error:
        raise output_error(error) from None


def _read(data: Path) -> DataPackage:
    with errors.status("读取数据包 / reading the data package …"):
        package = read_package(data)
    for note in package.notes:
        errors.print(printable(f"注意 / note: {note}"), style="yellow", markup=False, highlight=False)
    return package


def _require_db() -> None:
    """Stop with the bilingual "run qilin db upgrade" message when the database is not migrated."""
    from qilin.cli import require_migrated

    require_migrated()


def _source(data: Path | None, db: bool) -> DataPackage:
    """The data package from ``--data`` or from the registry (``--db``): exactly one of them."""
    if data is not None and db:
        raise RunError("discover.source_both")
    if data is None and not db:
        raise RunError("discover.source_required")
    if data is not None:
        return _read(data)
    _require_db()
    from qilin.db import session_scope

    with errors.status("读取企业库 / reading the registry …"), session_scope() as session:
        return package_from_db(session)


@app.command("train")
def train_command(
    as_of: AsOfOption,
    horizon_years: HorizonOption,
    out: Annotated[Path, typer.Option("--out", help="模型文件 (JSON) / model file")],
    n_estimators: TreesOption = 150,
    seed: SeedOption = 0,
    data: SourceDataOption = None,
    db: DbOption = False,
) -> None:
    """训练发现模型 / Train the discovery model on records dated on or before the as-of date."""
    try:
        day = parse_date(as_of)
        _output(out)
        package = _source(data, db)
        with errors.status("训练模型 / training …"):
            model, metadata = train(
                package,
                as_of=day,
                horizon_years=horizon_years,
                params={"n_estimators": n_estimators, "random_state": seed},
            )
        save_model(model, out, metadata)
    except DiscoveryError as error:
        raise _fail(error) from None
    console.print(
        f"已训练：{metadata['n_train']} 家企业，正例 {metadata['n_positives']} 家 → {out} / "
        f"trained on {metadata['n_train']} companies ({metadata['n_positives']} positives) → {out}"
    )


@app.command("rank")
def rank_command(
    as_of: AsOfOption,
    out: Annotated[Path, typer.Option("--out", help="排序结果 CSV / ranking CSV")],
    model_path: Annotated[
        Path | None, typer.Option("--model", help="模型文件（默认随包模型）/ model file (default: shipped)")
    ] = None,
    lang: Annotated[Lang, typer.Option(help="理由语言 zh|en / language of reasons")] = Lang.zh,
    top: TopOption = 3,
    baselines: Annotated[
        bool,
        typer.Option(
            "--baselines",
            help="附加对照排名列（累计融资、近两年融资、最近一轮）/ add the baseline rankings' columns",
        ),
    ] = False,
    data: SourceDataOption = None,
    db: DbOption = False,
) -> None:
    """按成为独角兽的可能性排序 / Rank operating, not-yet-unicorn companies with reasons."""
    try:
        day = parse_date(as_of)
        _output(out)
        model, _ = load_model(model_path or DEFAULT_MODEL_PATH)
        package = _source(data, db)
        with errors.status("排序 / ranking …"):
            ranking = rank(package, as_of=day, model=model, lang=lang.value, top=top, baselines=baselines)
        try:
            write_atomically(out, ranking.write_csv)
        except OutputError as error:
            raise output_error(error) from None
    except DiscoveryError as error:
        raise _fail(error) from None
    console.print(f"已排序 {ranking.height} 家企业 → {out} / ranked {ranking.height} companies → {out}")


_HEADERS = {
    "precision_at_1pct": "P@1%",
    "recall_at_5pct": "R@5%",
    "average_precision": "AP",
    "brier": "Brier",
    "median_lead_years": "lead (y)",
}


def _cell(value: float | None, metric: str) -> str:
    if value is None:
        return "n/a"
    if metric == "brier":
        return f"{value:.4f}"
    return f"{value:.2f}" if metric == "median_lead_years" else f"{value:.3f}"


def _table(report: BacktestReport) -> Table:
    title = (
        f"{report.mode} · as-of {report.as_of} · horizon {report.horizon_years:g}y · "
        f"{report.n_companies} companies, {report.n_positives} positives"
    )
    if report.mode == "walk-forward":
        title += f" · trained on {', '.join(d.isoformat() for d in report.train_as_of)}"
        title += f" ({report.n_train_positives} positive labels)"
    table = Table(title=title, caption=report.note or None)
    table.add_column("scorer / 排序依据", no_wrap=True)
    for metric in METRICS:
        table.add_column(_HEADERS[metric], justify="right")
    for name, metrics in report.scorers.items():
        cells = []
        for metric in METRICS:
            interval = metrics[metric]
            text = _cell(interval.value, metric)
            if interval.low is not None:
                text += f" [{_cell(interval.low, metric)}, {_cell(interval.high, metric)}]"
            cells.append(text)
        table.add_row(name, *cells)
    return table


def _rows(reports: list[BacktestReport]) -> pl.DataFrame:
    rows = []
    for report in reports:
        for name, metrics in report.scorers.items():
            for metric, interval in metrics.items():
                rows.append(
                    {
                        "mode": report.mode,
                        "as_of": report.as_of.isoformat(),
                        "horizon_years": report.horizon_years,
                        "scorer": name,
                        "metric": metric,
                        "value": interval.value,
                        "low": interval.low,
                        "high": interval.high,
                        "n_companies": report.n_companies,
                        "n_positives": report.n_positives,
                    }
                )
    return pl.DataFrame(rows)


@app.command("backtest")
def backtest_command(
    as_of: AsOfOption,
    horizon_years: HorizonOption,
    folds: Annotated[int, typer.Option(min=2, help="交叉验证折数 / CV folds")] = 5,
    walk_forward_mode: Annotated[
        bool,
        typer.Option(
            "--walk-forward",
            help="前推检验：截止日期及之前 4 年逐年 / walk-forward: the as-of date and 4 years before",
        ),
    ] = False,
    output_format: Annotated[str, typer.Option("--format", help="table|csv|json")] = "table",
    n_estimators: TreesOption = 150,
    n_boot: Annotated[int, typer.Option(min=0, max=MAX_TREES, help="自助法次数 / bootstrap resamples")] = 200,
    seed: SeedOption = 0,
    data: SourceDataOption = None,
    db: DbOption = False,
) -> None:
    """回测：模型与基线对比（含 90% 区间）/ Back-test the model beside baselines, with 90% intervals."""
    if output_format not in ("table", "csv", "json"):
        errors.print("错误 / error: --format 应为 table|csv|json / must be table|csv|json", style="bold red")
        raise typer.Exit(1)
    try:
        day = parse_date(as_of)
        if not 1 <= horizon_years <= MAX_HORIZON_YEARS:
            raise DiscoveryError("horizon.invalid", value=horizon_years, max=MAX_HORIZON_YEARS)
        package = _source(data, db)
        check_as_of(package, day)
        params = {"n_estimators": n_estimators}
        with RichProgress(errors) as progress:
            if walk_forward_mode:
                first = first_round(package)
                dates = [d for d in walk_forward_dates(day) if first is not None and d >= first]
                if len(dates) < 2:
                    raise RunError(
                        "discover.walk_forward_short",
                        first=str(first),
                        as_of=day.isoformat(),
                        count=len(dates),
                    )
                reports = walk_forward(
                    package, dates, horizon_years, seed=seed, n_boot=n_boot, params=params, progress=progress
                )
            else:
                reports = [
                    cross_validate(
                        package,
                        day,
                        horizon_years,
                        folds=folds,
                        seed=seed,
                        n_boot=n_boot,
                        params=params,
                        progress=progress,
                    )
                ]
    except DiscoveryError as error:
        raise _fail(error) from None
    if output_format == "json":
        sys.stdout.write(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=1) + "\n")
    elif output_format == "csv":
        sys.stdout.write(_rows(reports).write_csv())
    else:
        for report in reports:
            console.print(_table(report))


@app.command("run")
def run_command(
    as_of: AsOfOption,
    model_path: Annotated[
        Path | None, typer.Option("--model", help="模型文件（默认随包模型）/ model file (default: shipped)")
    ] = None,
    top: TopOption = 3,
) -> None:
    """为企业库评分并保存运行记录 / Score the registry on the as-of date and keep the run as history."""
    from qilin.common.messages import both
    from qilin.db import session_scope

    _require_db()
    try:
        day = parse_date(as_of)
        with errors.status("评分 / scoring the registry …"), session_scope() as session:
            run = run_discovery(session, as_of=day, model_path=model_path, top=top)
            run_id, version, count = run.id, run.model_version, run.enterprises
    except DiscoveryError as error:
        raise _fail(error) from None
    console.print(
        both("discover.run_done", run_id=run_id, as_of=day.isoformat(), model_version=version, count=count)
    )


@app.command("runs")
def runs_command() -> None:
    """列出发现运行记录 / List the discovery runs, latest first."""
    from qilin.common.messages import both
    from qilin.db import session_scope

    _require_db()
    with session_scope() as session:
        runs = list_runs(session)
        rows = [
            (str(r.id), r.as_of.isoformat(), r.model_version, local_time(r.created_at),
             str(r.enterprises))
            for r in runs
        ]  # fmt: skip
    if not rows:
        console.print(both("discover.no_runs"))
        return
    table = Table(title="发现运行记录 / discovery runs")
    for header in (
        "id",
        "截止日期 / as of",
        "模型版本 / model version",
        "运行时间（北京时间）/ run at (UTC+8)",
        "企业数 / enterprises",
    ):
        table.add_column(header, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("leads")
def leads_command(
    top: Annotated[
        int, typer.Option(min=1, max=AI_MAX_TOP, help="推送榜单前 N 名 / the N best-ranked enterprises")
    ] = 50,
    run_id: Annotated[
        int | None, typer.Option("--run", min=1, help="运行编号（默认最新）/ run id (default: the latest)")
    ] = None,
) -> None:
    """将智能发现榜单推送为线索（AI 发现渠道）/ Put a run's best-ranked enterprises forward as leads.

    Enterprises already in a cultivation tier are skipped; each lead is dated on the run's as-of date and
    goes through the leads' verification like any channel's. Pushing the same run again adds nothing."""

    from qilin.audit.service import Actor
    from qilin.common.messages import both
    from qilin.db import session_scope
    from qilin.discovery.ai_leads import push_watch_list
    from qilin.registry.models import Enterprise

    _require_db()
    try:
        with session_scope() as session:
            pushed = push_watch_list(session, top=top, run_id=run_id, actor=Actor.cli().name)
            ids = [e for _, e, _ in pushed.added]
            found = session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids)))
            names = {eid: name for eid, name in found.tuples()}
    except DiscoveryError as error:
        raise _fail(error) from None
    console.print(
        both(
            "discover.leads_done", run_id=pushed.run_id, as_of=pushed.as_of, considered=pushed.considered,
            added=len(pushed.added), existing=pushed.existing, tiered=pushed.tiered,
        )
    )  # fmt: skip
    if pushed.added:
        table = Table(title="新线索 / new leads (AI 发现 ai_discovery)")
        for header in ("线索 lead", "排名 rank", "企业 enterprise", "名称 name"):
            table.add_column(header)
        for lead_id, enterprise_id, rank in pushed.added:
            table.add_row(
                str(lead_id), str(rank), printable(enterprise_id), printable(names.get(enterprise_id, ""))
            )
        console.print(table)


app.command("signals")(signals_command)
