"""CLI of the demo: ``qilin demo`` builds the demo database; ``qilin demo generate`` writes a package."""

from __future__ import annotations

import time

import typer
from rich.console import Console

from qilin.common.files import OutputError, output_path, prepare_folder
from qilin.common.progress import RichProgress
from qilin.common.validation import MAX_SEED
from qilin.db import session_scope
from qilin.demo.generate import generate_package
from qilin.demo.service import (
    DEFAULT_ENTERPRISES,
    DEFAULT_SEED,
    MAX_ENTERPRISES,
    build_demo,
    is_empty,
)
from qilin.registry.cli import refuse_output
from qilin.registry.package import FILES

app = typer.Typer(help="演示数据 / demo data", invoke_without_command=True)
console = Console()


@app.callback()
def demo(
    ctx: typer.Context,
    enterprises: int = typer.Option(
        DEFAULT_ENTERPRISES,
        min=0,
        max=MAX_ENTERPRISES,
        help=f"模拟企业数（至多 {MAX_ENTERPRISES:,}）/ synthetic enterprises (at most {MAX_ENTERPRISES:,})",
    ),
    seed: int = typer.Option(DEFAULT_SEED, min=0, max=MAX_SEED, help="随机种子 / random seed"),
    force: bool = typer.Option(
        False, "--force", help="数据库非空时仍然加载 / load even into a non-empty database"
    ),
) -> None:
    """构建演示数据库：19 家真实浙江独角兽 + 模拟企业 / Build the demo database."""
    if ctx.invoked_subcommand is not None:
        return
    from qilin.cli import require_migrated

    require_migrated()
    with RichProgress() as progress, session_scope() as session:
        if not is_empty(session) and not force:
            console.print(
                "数据库已有数据，未加载演示数据（用 --force 强制）/ database not empty; use --force"
            )
            raise typer.Exit(1)
        report = build_demo(session, enterprises=enterprises, seed=seed, progress=progress)
    inserted = report.counts["companies"].inserted
    console.print(f"演示数据已加载 / demo loaded: {inserted} 家企业（含模拟数据 / incl. synthetic）")


@app.command("generate")
def generate(
    out_text: str = typer.Option(..., "--out", help="输出文件夹 / output folder"),
    enterprises: int = typer.Option(
        DEFAULT_ENTERPRISES,
        "--enterprises",
        min=1,
        max=MAX_ENTERPRISES,
        help=f"模拟企业数（至多 {MAX_ENTERPRISES:,}）/ synthetic enterprises (at most {MAX_ENTERPRISES:,})",
    ),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", min=0, max=MAX_SEED, help="随机种子 / random seed"),
    real: bool = typer.Option(True, "--real/--no-real", help="包含真实独角兽 / include the real unicorns"),
    funded_share: float = typer.Option(
        0.35, "--funded-share", min=0.0, max=1.0, help="获得融资的企业比例 / share of enterprises that raise"
    ),
) -> None:
    """生成模拟数据包（用于基准测试）/ Write a synthetic data package, e.g. for benchmarks."""
    try:
        out = prepare_folder(output_path(out_text), [f"{kind}.csv" for kind in FILES])
    except OutputError as error:
        raise refuse_output(error) from None
    started = time.perf_counter()
    with RichProgress() as progress:
        progress.stage("generate", enterprises)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            progress.advance(n - done)
            done = n

        try:
            summary = generate_package(
                out,
                enterprises=enterprises,
                seed=seed,
                include_real=real,
                funded_share=funded_share,
                progress=advance,
            )
        except OutputError as error:
            raise refuse_output(error) from None
    counts = ", ".join(f"{kind} {n:,}" for kind, n in summary.counts.items())
    console.print(f"已生成 / generated in {time.perf_counter() - started:.1f}s: {counts}")
