"""Excel workbooks (导出 Excel): the enterprise list, with the same filters and scope as its page, and the
discovery watch-list (重点关注名单) of the latest run, with the same city filter and scope as its page.

Every cell goes through :func:`qilin.common.export_safety.safe_cell` (a name such as ``=HYPERLINK(…)`` is
written as text, never as a formula). At most :data:`MAX_ROWS` rows; the notes sheet says when the list
was cut, which filters and tier snapshot it used, and how foreign valuations were converted. Valuations
are exported only for roles with the ``financial`` permission; so are the watch-list's reasons and baseline
places, which quote funding amounts.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from qilin.auth.roles import Permission
from qilin.auth.scope import Principal
from qilin.common.dates import local_time
from qilin.common.export_safety import safe_cell
from qilin.discovery.api import watch_list
from qilin.discovery.runs_models import DiscoveryRun
from qilin.tiers.explain import tier_name
from qilin.web.enterprises import (
    LatestValuation,
    ListQuery,
    current_snapshot,
    evidence_name,
    list_page,
    list_scope,
    region_name,
    stage_name,
    standard_name,
    status_name,
    track_name,
)
from qilin.web.messages import t

MAX_ROWS = 10_000
# The enterprise list is exported in pages of this many rows: each page sorts the matches again (by tier, by
# default: 0.2 s over 100,000 enterprises on SQLite, 0.35-0.43 s on PostgreSQL), so pages of the list's 100
# took 20 s for 10,000 rows. One page of them all: 10,000 rows of 100,000 in 3.3-3.9 s on either database,
# against 5.9-6.7 s in pages of 1,000 (the same rows; 18 MB more memory on SQLite).
EXPORT_PAGE_SIZE = MAX_ROWS
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell(value: Any) -> Any:
    """A value as written to a cell: text neutralised by :func:`safe_cell` and without the control
    characters a workbook cannot hold (a name stored before they were refused, a search typed with one);
    numbers as they are."""
    if value is None:
        return None
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    if isinstance(value, int | float):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def workbook(session: Session, principal: Principal, query: ListQuery) -> tuple[bytes, int, int]:
    """The workbook's bytes, the rows written and the total matching."""
    financial = principal.can(Permission.financial)
    snapshot = current_snapshot(session)
    scope = list_scope(session, principal, query)

    book = Workbook(write_only=True)
    sheet = book.create_sheet(t("export.sheet"))
    header = [
        t("export.id"),
        t("list.name"),
        t("export.name_en"),
        t("export.uscc"),
        t("export.region_code"),
        t("list.city"),
        t("list.county"),
        t("list.tier"),
        t("list.track"),
        t("list.stage"),
        t("list.founded"),
        t("export.status"),
        t("synthetic.badge"),
    ]
    if financial:
        header += [
            t("list.valuation"),
            t("export.valuation_date"),
            t("export.valuation_evidence"),
            t("export.valuation_cny"),
            t("export.fx"),
        ]
    sheet.append([cell(h) for h in header])

    written, total, page = 0, 0, 1
    while written < MAX_ROWS:
        result = list_page(
            session,
            principal,
            query,
            page_size=EXPORT_PAGE_SIZE,
            page=page,
            scope=scope,
            snapshot=snapshot,
            max_page_size=EXPORT_PAGE_SIZE,
        )
        total = result.total
        for item in result.items[: MAX_ROWS - written]:
            row: list[Any] = [
                item.id,
                item.name,
                item.name_en,
                item.uscc,
                item.region_code,
                item.city,
                item.county,
                tier_name(item.tier) if item.tier else None,
                "、".join(track_name(c) for c in item.tracks),
                stage_name(item.latest_stage) if item.latest_stage else None,
                item.founded_on,
                status_name(item.status),
                item.is_synthetic,
            ]
            if financial:
                v: LatestValuation | None = result.valuations.get(item.id)
                row += (
                    [
                        v.text,
                        v.as_of,
                        evidence_name(v.evidence),
                        float(v.cny_yi) if v.cny_yi is not None else None,
                        v.fx_text,
                    ]
                    if v
                    else [None] * 5
                )
            sheet.append([cell(x) for x in row])
            written += 1
        if page >= result.pages or not result.items:
            break
        page += 1

    tier_line = (
        t(
            "list.snapshot",
            standard=standard_name(snapshot.standard_id, snapshot.standard_version),
            as_of=snapshot.as_of.isoformat(),
        )
        if snapshot
        else t("list.no_snapshot")
    )
    content = _finish(
        book,
        principal,
        [(t("export.filters"), query.describe()), (t("list.tier"), tier_line)],
        total=total,
        written=written,
        remarks=[t("financial.hidden_note") if not financial else t("fx.note")],
    )
    return content, written, total


def _finish(
    book: Any,
    principal: Principal,
    lines: list[tuple[str, Any]],
    *,
    total: int,
    written: int,
    remarks: list[str],
) -> bytes:
    """Add the notes sheet (when and by whom, ``lines``, the totals, a truncation warning, ``remarks`` and
    the cell note) and return the workbook's bytes."""
    notes = book.create_sheet(t("export.notes"))
    rows: list[tuple[str, Any]] = [
        (t("export.generated"), local_time(dt.datetime.now(dt.UTC))),
        (t("export.by"), principal.username),
        *lines,
        (t("export.total"), total),
        (t("export.rows"), written),
    ]
    if total > written:
        rows.append(("!", t("export.truncated", max=MAX_ROWS, total=total)))
    rows += [("", remark) for remark in remarks]
    rows.append(("", t("export.cell_note")))
    for key, value in rows:
        notes.append([cell(key), cell(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_PLACES = ("total_raised", "raised_2y", "latest_round")


def watch_list_workbook(
    session: Session, principal: Principal, run: DiscoveryRun, *, city: str | None, city_name: str | None
) -> tuple[bytes, int, int]:
    """The watch-list of ``run`` inside the principal's scope (and ``city``, a 6-digit city code, when
    given): the workbook's bytes, the rows written and the total."""
    financial = principal.can(Permission.financial)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(t("discovery.watch_list"))
    header = [
        t("discovery.rank"),
        t("export.id"),
        t("list.name"),
        t("list.region"),
        t("discovery.score"),
        t("synthetic.badge"),
    ]
    if financial:
        header += [t("discovery.export_place", scorer=t(f"discovery.scorer.{p}")) for p in _PLACES]
        header.append(t("profile.reasons"))
    sheet.append([cell(h) for h in header])

    # one query for all the rows written: paging by 100 counted the list again and skipped the rows
    # already written, page after page
    items, total = watch_list(
        session,
        principal=principal,
        run=run,
        region_prefix=city[:4] if city else None,
        offset=0,
        limit=MAX_ROWS,
    )
    for item in items:
        row: list[Any] = [
            item["rank"],
            item["enterprise_id"],
            item["name"],
            region_name(item["region_code"]),
            item["score"],
            item["is_synthetic"],
        ]
        if financial:
            row += [item["baseline_ranks"][p] for p in _PLACES]
            row.append("；".join(item["reasons"]))
        sheet.append([cell(x) for x in row])
    written = len(items)

    run_line = t("discovery.run", as_of=run.as_of.isoformat(), model=run.model_version, count=run.enterprises)
    remarks = [t("discovery.export_caveat")] + ([] if financial else [t("profile.reasons_hidden")])
    content = _finish(
        book,
        principal,
        [
            (t("discovery.title"), run_line),
            (t("export.filters"), f"{t('list.city')}：{city_name or t('common.all')}"),
        ],
        total=total,
        written=written,
        remarks=remarks,
    )
    return content, written, total


# The lead file template (线索填写模板): (header as officials write it, what goes in it). The headers are
# HEADER_ALIASES of qilin.discovery.leads, so a filled template imports as it is.
LEAD_TEMPLATE: tuple[tuple[str, str], ...] = (
    ("企业名称", "必填：企业全称，如“杭州某某科技有限公司”"),
    ("统一社会信用代码", "选填：18 位；填写后按代码与企业库自动匹配"),
    ("行政区划代码", "选填：6 位区县代码，如西湖区 330106"),
    ("赛道", "选填：如“人工智能”；多个赛道用分号分隔"),
    ("成立日期", "选填：YYYY-MM-DD"),
    ("推荐日期", "选填：YYYY-MM-DD；不填为上传当天"),
    ("渠道", "选填：如“科技计划”“高校院所”“头部基金”；不填则用上传页所选渠道"),
    ("英文名称", "选填"),
    ("备注", "选填：推荐理由等，最多 2000 字"),
)
TEXT_COLUMNS = ("统一社会信用代码", "行政区划代码", "成立日期", "推荐日期")  # kept as text, not numbers


def lead_template() -> bytes:
    """An empty lead file: the 线索 sheet (read on upload) with its headers and text-formatted code and date
    columns (Excel would turn an all-digit USCC into a rounded number), and a sheet of instructions."""
    book = Workbook()
    book.remove(book.worksheets[0])
    sheet = book.create_sheet(t("template.sheet"))
    for column, (header, _) in enumerate(LEAD_TEMPLATE, start=1):
        sheet.cell(row=1, column=column, value=header)
        sheet.column_dimensions[get_column_letter(column)].width = max(14, len(header) * 3)
        if header in TEXT_COLUMNS:
            for row in range(2, 1002):
                sheet.cell(row=row, column=column).number_format = "@"
    notes = book.create_sheet(t("template.notes"))
    notes.append([t("template.column"), t("template.meaning")])
    for header, meaning in LEAD_TEMPLATE:
        notes.append([header, meaning])
    notes.append([])
    notes.append([t("template.rules")])
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 70
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
