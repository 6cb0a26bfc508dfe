"""CLI of the registry: ``qilin import``, ``qilin export``, ``qilin summary``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qilin.common.files import OutputError, output_path
from qilin.common.messages import both
from qilin.common.progress import RichProgress
from qilin.db import get_engine, session_scope
from qilin.registry.exporter import export_package
from qilin.registry.importer import ImportReport, import_package
from qilin.registry.service import RegistrySummary, registry_summary

# No markup: file names, paths, tracks and city names from the data are printed as they are.
console = Console(markup=False)
err = Console(stderr=True, markup=False)

MAX_ISSUES_SHOWN = 200


def _print_report(report: ImportReport, *, dry_run: bool) -> None:
    shown = report.issues[:MAX_ISSUES_SHOWN]
    for issue in shown:
        err.print(issue.bilingual(), markup=False, highlight=False)
    if len(report.issues) > len(shown):
        err.print(
            f"… 另有 {len(report.issues) - len(shown)} 处错误 / {len(report.issues) - len(shown)} more errors"
        )
    table = Table(title="导入结果 / import result")
    for column in (
        "文件 file",
        "读取 read",
        "新增 inserted",
        "更新 updated",
        "未变 unchanged",
        "拒绝 rejected",
    ):
        table.add_column(column, justify="right" if column[0] != "文" else "left")
    for kind, c in sorted(report.counts.items()):
        table.add_row(kind, *(str(v) for v in (c.read, c.inserted, c.updated, c.unchanged, c.rejected)))
    console.print(table)
    if report.refused:
        err.print(both("import.refused", count=len(report.issues)), style="bold red")
    elif dry_run:
        console.print(both("import.dry_run"))
    else:
        for path, rejected in report.rejects_files.items():
            console.print(both("import.rejects_written", count=rejected, path=str(path)))
        console.print(both("import.done"), style="green")


def import_command(
    paths: list[str] = typer.Argument(
        ..., help="数据包文件夹，或 CSV/XLSX 文件 / package folder or CSV/XLSX files"
    ),
    skip_invalid: bool = typer.Option(
        False,
        "--skip-invalid",
        help="写入有效行，无效行写入旁边的 .rejects.csv / write valid rows, reject the rest",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="只校验并报告，不写入 / only check and report"),
) -> None:
    """导入数据包 / Import a data package (all-or-nothing by default)."""
    from qilin.cli import require_migrated

    if any(path == "" for path in paths):  # Path("") would be the current folder
        err.print(both("import.empty_path"), style="bold red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    require_migrated()
    engine = get_engine()
    with RichProgress() as progress, session_scope(engine) as session:
        report = import_package(
            session,
            paths=[Path(path) for path in paths],
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            progress=progress,
        )
        if dry_run or report.refused:
            session.rollback()
    _print_report(report, dry_run=dry_run)
    if report.refused or (dry_run and report.issues):
        raise typer.Exit(1)


def refuse_output(error: OutputError) -> typer.Exit:
    """Print why an output path cannot be written (bilingual); the exit to raise."""
    if error.key == "output.empty":
        message = both(error.key)
    else:
        message = both("output.unwritable", path=str(error.path), zh=error.zh, en=error.en)
    err.print(message, style="bold red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def export_command(
    out_text: str = typer.Option(..., "--out", help="输出文件夹 / output folder"),
) -> None:
    """导出数据包 / Export the registry as a data package."""
    from qilin.cli import require_migrated

    try:
        out = output_path(out_text)
    except OutputError as error:
        raise refuse_output(error) from None
    require_migrated()
    try:
        with session_scope() as session:
            counts = export_package(session, out_dir=out)
    except OutputError as error:
        raise refuse_output(error) from None
    table = Table(title=f"导出 / exported to {out}")
    table.add_column("文件 file")
    table.add_column("行数 rows", justify="right")
    for kind, n in counts.items():
        table.add_row(f"{kind}.csv", str(n))
    console.print(table)


def render_summary(summary: RegistrySummary) -> None:
    console.print(
        Text.assemble(
            ("企业库概况 / registry summary", "bold"),
            f"：{summary.enterprises} 家企业（其中模拟数据 {summary.synthetic} 家 / {summary.synthetic} "
            f"synthetic），{summary.rounds} 笔融资 / rounds",
        )
    )
    for title, rows in (
        ("按城市 / by city", summary.by_city),
        ("按赛道 / by track", summary.by_track),
        ("按最新融资阶段 / by latest funding stage", summary.by_stage),
    ):
        table = Table(title=title)
        table.add_column("类别 / group")
        table.add_column("企业数 / enterprises", justify="right")
        table.add_column("其中模拟 / synthetic", justify="right")
        for row in rows:
            table.add_row(row.label, str(row.count), str(row.synthetic))
        console.print(table)


def summary_command() -> None:
    """企业库概况：按城市、赛道、融资阶段统计 / Registry summary by city, track and funding stage."""
    from qilin.cli import require_migrated

    require_migrated()
    with session_scope() as session:
        render_summary(registry_summary(session))
