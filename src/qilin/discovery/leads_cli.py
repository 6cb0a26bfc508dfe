"""CLI of the discovery leads (多元发现渠道线索): ``qilin leads import|list|show|advance|recommenders``.
Thin: parse, call :mod:`qilin.discovery.leads`, render."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qilin.common.dates import local_time
from qilin.common.messages import SHARED, both, t
from qilin.common.text import control_character, is_blank, printable
from qilin.db import MAX_ID, session_scope
from qilin.discovery import leads as service
from qilin.discovery.leads import LeadError, LeadImportReport, LeadView, channel_label, state_label
from qilin.discovery.leads_models import CHANNELS, RECOMMENDER_KINDS, STATES

app = typer.Typer(help="多元发现渠道线索 / leads from the discovery channels", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

MAX_ISSUES_SHOWN = 200


def _fail(exc: Exception | str) -> typer.Exit:
    err.print(printable(str(exc)), style="bold red", markup=False, emoji=False, highlight=False)
    return typer.Exit(1)


def _row(table: Table, *values: str) -> None:
    """A row of stored text (names, comments, file names), shown as it is: ``Text`` is never read as Rich
    markup, so a lead named "Evil[/bold]" neither breaks the table nor styles it; a control character (stored
    before imports refused them) shows escaped rather than acting on the terminal."""
    table.add_row(*(Text(printable(value)) for value in values))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return ""


def _actor(actor: str) -> str:
    """``actor`` (an ``--actor`` option or the operating-system user, both recorded with every lead and
    transition), refused when it holds a control character or shows nothing."""
    char = control_character(actor)
    if char is not None:
        raise _fail(both("actor.control", char=char))
    if is_blank(actor):
        raise _fail(both("leads.actor_required"))
    return actor


def _plain_option(option: str, value: str | None) -> str | None:
    """An option's text that is stored (a comment, a recommender's name): no control characters."""
    char = None if value is None else control_character(value)
    if char is not None:
        raise _fail(f"{option}: {both('field.control_char', char=char)}")
    return value


def _require_db() -> None:
    from qilin.cli import require_migrated

    require_migrated()


def _print(message: str) -> None:
    console.print(printable(message), markup=False, emoji=False, highlight=False)


def _time(value: dt.datetime | None) -> str:
    return "" if value is None else f"{local_time(value)} UTC+8"


def _state(code: str) -> str:
    return f"{t(f'leads.state.{code}')} {code}"


def _channel(code: str) -> str:
    return f"{channel_label(code)} {code}"


def _rate(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="线索文件（CSV 或 XLSX）/ lead file (CSV or XLSX)"),
    recommender: str | None = typer.Option(
        None, "--recommender", help="推荐单位（行内 recommender 列优先）/ recommender, unless a row names one"
    ),
    channel: str | None = typer.Option(
        None,
        "--channel",
        help=f"渠道（行内 channel 列优先）/ channel unless a row gives one: {', '.join(CHANNELS)}",
    ),
    recommender_kind: str = typer.Option(
        "other",
        "--recommender-kind",
        help=f"新推荐单位的类型 / kind of a new recommender: {', '.join(RECOMMENDER_KINDS)}",
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="只导入有效行 / import the valid rows, report the others"
    ),
    actor: str = typer.Option("", "--actor", help="操作人（默认当前用户）/ who imports (default: you)"),
) -> None:
    """导入线索（默认全部成功才写入）/ Import leads (all-or-nothing by default)."""
    _require_db()
    who = _actor(actor or _os_user())
    recommender = _plain_option("--recommender", recommender)
    try:
        with session_scope() as session:
            report = service.import_leads(
                session,
                path=file,
                actor=who,
                channel=channel,
                recommender=recommender,
                recommender_kind=recommender_kind,
                skip_invalid=skip_invalid,
            )
            if report.refused:
                session.rollback()
    except LeadError as exc:
        raise _fail(exc) from None
    _render_import(report)
    if report.refused:
        raise typer.Exit(1)


def _render_import(report: LeadImportReport) -> None:
    for issue in report.issues[:MAX_ISSUES_SHOWN]:  # the value quoted as the file has it, escapes escaped
        err.print(printable(issue.bilingual()), markup=False, emoji=False, highlight=False)
    if len(report.issues) > MAX_ISSUES_SHOWN:
        more = len(report.issues) - MAX_ISSUES_SHOWN
        err.print(f"… 另有 {more} 处错误 / {more} more errors")
    if report.refused:
        err.print(both("leads.refused", count=len(report.issues)), style="bold red")
        return
    table = Table(title=Text(f"导入线索 / imported leads: {report.file}"))
    for column in ("行 line", "线索 lead", "企业名称 name", "结果 result", "统一社会信用代码匹配 USCC match",
                   "名称相近（仅供参考，不自动关联）similar names (suggestions only)"):  # fmt: skip
        table.add_column(column)
    for o in report.outcomes:
        result = "新增 added" if o.added else "已存在 present"
        match = []
        if o.matched_enterprise_id:
            match.append(f"企业 enterprise {o.matched_enterprise_id}")
        if o.duplicate_of_id:
            match.append(f"重复线索 duplicate of lead {o.duplicate_of_id}")
        similar = "; ".join(f"{s.kind} {s.id} {s.name} ({s.score:.2f})" for s in o.suggestions)
        _row(table, str(o.line), str(o.lead_id), o.name, result, "; ".join(match), similar)
    console.print(table)
    _print(
        both(
            "leads.imported",
            read=report.read,
            added=report.added,
            existing=report.existing,
            rejected=report.rejected,
        )
    )


@app.command("list")
def list_command(
    status: str | None = typer.Option(None, "--status", help=f"状态 / status: {', '.join(STATES)}"),
    channel: str | None = typer.Option(None, "--channel", help=f"渠道 / channel: {', '.join(CHANNELS)}"),
) -> None:
    """列出线索 / List leads."""
    _require_db()
    try:
        with session_scope() as session:
            leads = service.list_(session, status=status, channel=channel)
            names = {r.id: r.name for r in service.recommenders(session)}
    except LeadError as exc:
        raise _fail(exc) from None
    if not leads:
        _print(both("leads.none"))
        return
    table = Table(title="线索 / leads")
    for column in (
        "编号 id",
        "渠道 channel",
        "推荐单位 recommender",
        "企业名称 name",
        "统一社会信用代码 USCC",
        "推荐日期 submitted",
        "状态 status",
        "企业 enterprise",
    ):
        table.add_column(column)
    for lead in leads:
        _row(
            table,
            str(lead.id),
            _channel(lead.channel),
            names.get(lead.recommender_id, ""),
            f"{lead.name}（模拟 synthetic）" if lead.is_synthetic else lead.name,
            lead.uscc or "",
            lead.submitted_on.isoformat(),
            _state(lead.status),
            lead.enterprise_id or lead.matched_enterprise_id or "",
        )
    console.print(table)


@app.command("show")
def show_command(lead_id: int = typer.Argument(..., min=1, max=MAX_ID, help="线索编号 / lead id")) -> None:
    """线索详情：提交内容、相似名称建议、流转记录 / A lead: submitted facts, suggestions, transitions."""
    _require_db()
    try:
        with session_scope() as session:
            shown = service.view(session, lead_id=lead_id)
    except LeadError as exc:
        raise _fail(exc) from None
    _render_view(shown)


def _render_view(v: LeadView) -> None:
    lead = v.lead
    allowed = " / ".join(service.states_text(v.allowed_next, lang) for lang in ("zh", "en"))
    lines = [
        f"线索 lead {lead.id}：{lead.name}" + (f"（{lead.name_en}）" if lead.name_en else ""),
        f"渠道 channel: {_channel(lead.channel)}；"
        f"推荐单位 recommender: {v.recommender.name}（{SHARED.name('leads.kind', v.recommender.kind)}）",
        f"状态 status: {state_label(lead.status)}；下一步 next: {allowed}",
        f"推荐日期 submitted on: {lead.submitted_on}；"
        f"录入 recorded: {lead.recorded_by} {_time(lead.recorded_at)}"
        + (f"；来源 source: {lead.source_file} 第 {lead.source_line} 行 line" if lead.source_file else ""),
        f"统一社会信用代码 USCC: {lead.uscc or '—'}；地区 region: {lead.region_code or '—'}；"
        f"赛道 tracks: {', '.join(lead.tracks) or '—'}；成立 founded: {lead.founded_on or '—'}",
    ]
    if lead.matched_enterprise_id:
        lines.append(f"统一社会信用代码匹配 USCC match: {lead.matched_enterprise_id} {v.matched_name or ''}")
    if lead.duplicate_of_id:
        lines.append(f"同一统一社会信用代码的线索 same USCC as lead: {lead.duplicate_of_id}")
    if lead.enterprise_id:
        lines.append(f"已入库企业 accepted as enterprise: {lead.enterprise_id} {v.enterprise_name or ''}")
    if lead.rejection_reason:
        lines.append(f"不予采纳原因 rejection reason: {lead.rejection_reason}")
    _print("\n".join(lines))

    facts = Table(title="提交内容（原样）/ submitted values (as they came)")
    facts.add_column("列 column")
    facts.add_column("值 value")
    for column, value in lead.submitted.items():
        _row(facts, str(column), str(value))
    console.print(facts)

    similar = Table(title="名称相近（仅供参考，不自动关联）/ similar names (suggestions only, never linked)")
    for column in ("类型 kind", "编号 id", "名称 name", "相似度 score"):
        similar.add_column(column)
    for s in v.suggestions:
        _row(similar, s.kind, s.id, s.name, f"{s.score:.2f}")
    console.print(similar)

    log = Table(title="流转记录 / transitions")
    for column in ("时间 at (UTC)", "操作人 actor", "从 from", "到 to", "意见 comment", "企业 enterprise"):
        log.add_column(column)
    for tr in v.transitions:
        _row(
            log,
            _time(tr.at),
            tr.actor,
            _state(tr.from_state),
            _state(tr.to_state),
            tr.comment or "",
            tr.enterprise_id or "",
        )
    console.print(log)


@app.command("advance")
def advance_command(
    lead_id: int = typer.Argument(..., min=1, max=MAX_ID, help="线索编号 / lead id"),
    to: str = typer.Option(..., "--to", help=f"目标状态 / target state: {', '.join(STATES)}"),
    actor: str = typer.Option(..., "--actor", help="操作人 / who does it"),
    comment: str | None = typer.Option(
        None, "--comment", help="意见；不予采纳时为原因 / comment; the reason"
    ),
    enterprise_id: str | None = typer.Option(
        None, "--enterprise-id", help="采纳入库时关联的企业编号 / the registry enterprise when accepting"
    ),
) -> None:
    """线索流转 / Move a lead to another state."""
    _require_db()
    who = _actor(actor)
    comment = _plain_option("--comment", comment)
    try:
        with session_scope() as session:
            moved = service.advance(
                session,
                lead_id=lead_id,
                to_state=to,
                actor=who,
                comment=comment,
                enterprise_id=enterprise_id,
            )
            from_state, to_state = moved.from_state, moved.to_state
    except LeadError as exc:
        raise _fail(exc.naming({"comment": "--comment", "enterprise_id": "--enterprise-id"})) from None
    _print(
        " / ".join(
            t(
                "leads.advanced",
                lang=lang,
                id=lead_id,
                from_state=state_label(from_state, lang),
                to_state=state_label(to_state, lang),
            )
            for lang in ("zh", "en")
        )
    )


@app.command("recommenders")
def recommenders_command() -> None:
    """推荐单位成效：线索、采纳、进入梯队、成为独角兽 / Recommenders' hit rates."""
    _require_db()
    with session_scope() as session:
        stats = service.recommender_report(session)
    if not stats:
        _print(both("leads.no_recommenders"))
        return
    table = Table(title="推荐单位成效 / recommenders' hit rates")
    for column in ("推荐单位 recommender", "类型 kind", "线索 leads", "采纳 accepted", "采纳率 accepted %",
                   "进入梯队 entered a tier", "进入梯队率 tier %", "成为独角兽 unicorns",
                   "独角兽率 unicorn %"):  # fmt: skip
        table.add_column(column, justify="left" if column[0] in "推类" else "right")
    for s in stats:
        _row(
            table,
            s.name,
            SHARED.name("leads.kind", s.kind),
            str(s.leads),
            str(s.accepted),
            _rate(s.rate(s.accepted)),
            str(s.entered_tier),
            _rate(s.rate(s.entered_tier)),
            str(s.unicorns),
            _rate(s.rate(s.unicorns)),
        )
    console.print(table)
