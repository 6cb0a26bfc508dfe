"""CLI of the yearly selection (年度遴选): ``qilin selection create|list|show|advance|object|resolve|exclude|
restore|remove``. Thin: parse, call :mod:`qilin.tiers.selection`, render."""

from __future__ import annotations

import datetime as dt
import getpass
from functools import partial

import typer
from rich.console import Console
from rich.table import Table

from qilin.common.dates import local_time
from qilin.common.messages import both, t
from qilin.db import session_scope
from qilin.tiers import selection as service
from qilin.tiers.explain import tier_name
from qilin.tiers.selection import (
    OBJECTION_ID_MAX,
    YEAR_MAX,
    YEAR_MIN,
    SelectionError,
    SelectionSummary,
    state_label,
    states_text,
)
from qilin.tiers.selection_models import ENTRY_STATUSES
from qilin.tiers.standards import DEFAULT_STANDARD

app = typer.Typer(help="年度遴选 / yearly selection", no_args_is_help=True)
# Names, reasons, comments and objections are typed by people: never read as Rich markup (a name such as
# "Evil[/bold]" would crash the table) or as emoji codes.
console = Console(markup=False, emoji=False)
err = Console(stderr=True, markup=False, emoji=False)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"日期应为 YYYY-MM-DD / dates are YYYY-MM-DD: {text!r}") from None


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        year = None
    if year is None or not YEAR_MIN <= year <= YEAR_MAX:
        raise typer.BadParameter(both("selection.year_range", min=YEAR_MIN, max=YEAR_MAX, year=text))
    return year


def _objection_id(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not 1 <= number <= OBJECTION_ID_MAX:
        raise typer.BadParameter(both("selection.objection_id_invalid", id=text))
    return number


YEAR = typer.Argument(..., help="遴选年度 / selection year", parser=_year)
COMPANY = typer.Argument(..., help="企业编号 / enterprise id")
ACTOR = typer.Option(..., "--actor", help="操作人 / who does it")
REASON = typer.Option(..., "--reason", help="原因 / reason")


UNKNOWN_CITY = f"{t('summary.unknown_city')} {t('summary.unknown_city', lang='en')}"


def _fail(exc: Exception) -> typer.Exit:
    err.print(str(exc), style="bold red", markup=False, highlight=False)
    return typer.Exit(1)


def _require_db() -> None:
    from qilin.cli import require_migrated

    require_migrated()


def _label(kind: str, code: str) -> str:
    """'中文 English' for a state, entry status, action or resolution code."""
    return f"{t(f'selection.{kind}.{code}', lang='zh')} {t(f'selection.{kind}.{code}', lang='en')}"


def _named(kind: str, code: str) -> partial[str]:
    """The name of a state, entry status, action or resolution code, per language (for ``both``)."""
    return partial(_name, f"selection.{kind}.{code}")


def _name(key: str, lang: str) -> str:
    return t(key, lang=lang)


def _time(value: dt.datetime | None) -> str:
    return "" if value is None else f"{local_time(value)} UTC+8"


def _print(message: str) -> None:
    console.print(message, markup=False, highlight=False)


@app.command("create")
def create_command(
    year: int = typer.Option(..., "--year", help="遴选年度 / selection year", parser=_year),
    standard: str = typer.Option(DEFAULT_STANDARD, "--standard", help="标准编号 / standard id"),
    as_of: dt.date = typer.Option(..., "--as-of", parser=_date, help="快照日期 / snapshot date YYYY-MM-DD"),
    actor: str = typer.Option("", "--actor", help="操作人（默认当前用户）/ who creates it (default: you)"),
) -> None:
    """由梯队快照创建年度遴选草稿 / Start a year's selection from a tier snapshot."""
    _require_db()
    try:
        with session_scope() as session:
            selection = service.create(
                session, year=year, standard_id=standard, as_of=as_of, actor=actor or getpass.getuser()
            )
            count = service.summarize(session, year=selection.year).by_status.get("included", 0)
    except SelectionError as exc:
        raise _fail(exc) from None
    _print(both("selection.created", year=year, count=count, standard=standard, as_of=as_of.isoformat()))


@app.command("list")
def list_command() -> None:
    """列出各年度遴选 / List the selections."""
    _require_db()
    with session_scope() as session:
        rows = [(s.year, s.state, s.standard_id, s.as_of) for s in service.list_(session)]
    if not rows:
        _print(both("selection.none"))
        return
    table = Table(title="年度遴选 / selections")
    for column in ("年度 year", "状态 state", "标准 standard", "快照日期 as of"):
        table.add_column(column)
    for year, state, standard, as_of in rows:
        table.add_row(str(year), _label("state", state), standard, as_of.isoformat())
    console.print(table)


@app.command("show")
def show_command(year: int = YEAR) -> None:
    """遴选状态、统计、名单、流转记录、异议 / A selection: state, counts, list, log, objections."""
    _require_db()
    try:
        with session_scope() as session:
            summary = service.summarize(session, year=year)
    except SelectionError as exc:
        raise _fail(exc) from None
    _render(summary)


def _render(s: SelectionSummary) -> None:
    allowed = f"{states_text(s.allowed_next)} / {states_text(s.allowed_next, 'en')}"
    lines = [
        f"{s.year} 年度遴选 / selection {s.year}",
        f"状态 state: {_label('state', s.state)}；下一步 next: {allowed}",
        f"快照 snapshot: {s.standard_id} 截至 as of {s.as_of}",
        f"创建 created: {s.created_by} {_time(s.created_at)}",
    ]
    if s.notice_start and s.notice_end:
        lines.append(f"公示期 objection period: {s.notice_start} ~ {s.notice_end}")
    counts = [(code, s.by_status.get(code, 0)) for code in ENTRY_STATUSES]
    lines.append("；".join(f"{_label('status', code)} {n}" for code, n in counts if n))
    _print("\n".join(lines))

    tiers = Table(title="入选企业：按梯队 / on the list, by tier")
    tiers.add_column("梯队 tier")
    tiers.add_column("企业数 enterprises", justify="right")
    for code, n in s.by_tier.items():
        tiers.add_row(f"{tier_name(code)} {tier_name(code, 'en')}", str(n))
    console.print(tiers)

    cities = Table(title="入选企业：按地市 / on the list, by city")
    cities.add_column("地市 city")
    cities.add_column("企业数 enterprises", justify="right")
    for city, n in s.by_city.items():
        cities.add_row(city or UNKNOWN_CITY, str(n))
    console.print(cities)

    entries = Table(title="名单 / list")
    for column in (
        "企业 id",
        "名称 name",
        "梯队 tier",
        "地市 city",
        "状态 status",
        "原因 reason",
        "数据 data",
    ):
        entries.add_column(column)
    for e in s.entries:
        entries.add_row(
            e.enterprise_id, e.name, tier_name(e.tier), e.city or UNKNOWN_CITY,
            _label("status", e.status), e.reason or "", "模拟数据 synthetic" if e.synthetic else "",
        )  # fmt: skip
    console.print(entries)

    log = Table(title="流转记录 / transitions")
    for column in ("#", "时间 time", "从 from", "到 to", "操作人 actor", "意见 comment", "公示期 notice"):
        log.add_column(column)
    for i, tr in enumerate(s.transitions, start=1):
        notice = f"{tr.notice_start} ~ {tr.notice_end}" if tr.notice_start else ""
        log.add_row(
            str(i), _time(tr.at), _label("state", tr.from_state), _label("state", tr.to_state), tr.actor,
            tr.comment or "", notice,
        )  # fmt: skip
    console.print(log)

    if s.changes:
        changes = Table(title="名单调整记录 / list changes")
        for column in ("时间 time", "企业 id", "操作 action", "原因 reason", "操作人 actor"):
            changes.add_column(column)
        for c in s.changes:
            changes.add_row(_time(c.at), c.enterprise_id, _label("action", c.action), c.reason, c.actor)
        console.print(changes)

    objections = Table(title="异议 / objections")
    for column in (
        "编号 id", "企业 id", "异议人 objector", "收到 received", "内容 text", "结果 resolution",
        "处理人 by", "处理意见 comment",
    ):  # fmt: skip
        objections.add_column(column)
    for o in s.objections:
        objections.add_row(
            str(o.id), o.enterprise_id, o.objector, o.received_on.isoformat(), o.text,
            _label("resolution", o.resolution or "open"), o.resolved_by or "", o.resolution_comment or "",
        )  # fmt: skip
    console.print(objections)


@app.command("advance")
def advance_command(
    year: int = YEAR,
    to: str = typer.Option(..., "--to", help="目标状态 / target state (city_review, provincial_review, …)"),
    actor: str = ACTOR,
    comment: str | None = typer.Option(
        None, "--comment", help="意见（退回时必填）/ comment (required to send back)"
    ),
    notice_start: dt.date | None = typer.Option(
        None, "--notice-start", parser=_date, help="公示开始 / objection period start"
    ),
    notice_end: dt.date | None = typer.Option(
        None, "--notice-end", parser=_date, help="公示结束（含）/ objection period end (included)"
    ),
) -> None:
    """推进或退回遴选流程 / Move a selection to its next state (or send it back)."""
    _require_db()
    try:
        with session_scope() as session:
            transition = service.advance(
                session, year=year, to_state=to, actor=actor, comment=comment,
                notice_start=notice_start, notice_end=notice_end,
            )  # fmt: skip
            from_state, to_state = transition.from_state, transition.to_state
    except SelectionError as exc:
        raise _fail(exc) from None
    _print(
        both(
            "selection.advanced",
            year=year,
            from_state=partial(state_label, from_state),
            to_state=partial(state_label, to_state),
        )
    )


@app.command("object")
def object_command(
    year: int = YEAR,
    company_id: str = COMPANY,
    by: str = typer.Option(..., "--by", help="异议人 / objector"),
    text: str = typer.Option(..., "--text", help="异议内容 / the objection"),
    received: dt.date | None = typer.Option(
        None, "--received", parser=_date, help="收到日期（默认今天）/ received on (default today)"
    ),
) -> None:
    """公示期间登记异议 / Record an objection during public notice."""
    _require_db()
    try:
        with session_scope() as session:
            objection = service.record_objection(
                session, year=year, enterprise_id=company_id, objector=by, text=text, received_on=received
            )
            objection_id = objection.id
    except SelectionError as exc:
        raise _fail(exc) from None
    _print(both("selection.objection_recorded", id=objection_id, enterprise=company_id))


@app.command("resolve")
def resolve_command(
    year: int = YEAR,
    objection_id: int = typer.Argument(..., help="异议编号 / objection id", parser=_objection_id),
    upheld: bool = typer.Option(..., "--upheld/--dismissed", help="异议成立 / 不成立 — upheld or dismissed"),
    actor: str = ACTOR,
    comment: str = typer.Option(..., "--comment", help="处理意见 / resolution"),
) -> None:
    """处理异议 / Resolve an objection as upheld or dismissed."""
    _require_db()
    try:
        with session_scope() as session:
            objection = service.resolve_objection(
                session, year=year, objection_id=objection_id, upheld=upheld, actor=actor, comment=comment
            )
            resolution = objection.resolution or "open"
    except SelectionError as exc:
        raise _fail(exc) from None
    _print(both("selection.objection_done", id=objection_id, resolution=_named("resolution", resolution)))


def _entry_command(action: str, year: int, company_id: str, actor: str, reason: str) -> None:
    functions = {
        "exclude": service.exclude_entry,
        "restore": service.restore_entry,
        "remove": service.remove_for_false_data,
    }
    _require_db()
    try:
        with session_scope() as session:
            entry = functions[action](
                session, year=year, enterprise_id=company_id, actor=actor, reason=reason
            )
            status = entry.status
    except SelectionError as exc:
        raise _fail(exc) from None
    _print(
        both(
            "selection.entry_changed",
            id=company_id,
            action=_named("action", action),
            status=_named("status", status),
        )
    )


@app.command("exclude")
def exclude_command(
    year: int = YEAR, company_id: str = COMPANY, actor: str = ACTOR, reason: str = REASON
) -> None:
    """草稿或市级审核阶段剔除企业 / Exclude an enterprise from the list (draft or city review)."""
    _entry_command("exclude", year, company_id, actor, reason)


@app.command("restore")
def restore_command(
    year: int = YEAR, company_id: str = COMPANY, actor: str = ACTOR, reason: str = REASON
) -> None:
    """草稿或市级审核阶段恢复被剔除的企业 / Put an excluded enterprise back (draft or city review)."""
    _entry_command("restore", year, company_id, actor, reason)


@app.command("remove")
def remove_command(
    year: int = YEAR, company_id: str = COMPANY, actor: str = ACTOR, reason: str = REASON
) -> None:
    """因提供虚假材料撤销企业（任何阶段，含发布后）/ Remove an enterprise for false data (any state)."""
    _entry_command("remove", year, company_id, actor, reason)
