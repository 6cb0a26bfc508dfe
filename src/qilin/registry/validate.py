"""Row validation for the data package (pure: no database). Each ``check_<kind>`` turns one row of text
into a record ready to store, or reports every problem in the row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from qilin.common.currency import normalize_currency
from qilin.common.dates import EARLIEST, parse_iso_date
from qilin.common.text import control_character, is_blank
from qilin.reference import industries, regions, tracks, uscc
from qilin.registry.issues import ImportIssue
from qilin.registry.package import EVENT_KINDS, EVIDENCE_GRADES, FILES, STATUSES
from qilin.registry.parsing import ParsedAmount, ParseError, parse_amount, parse_round_type

Record = dict[str, Any]

MAX_TEXT = {
    "acquirer_name": 200,
    "detail": 500,
    "id": 255,
    "company_id": 255,
    "name": 200,
    "name_en": 200,
    "city": 64,
    "category": 64,
    "country": 64,
    "source": 200,
}
# Events with a file of their own: kept there, so that an export writes them back where they came from.
OWN_FILE_KINDS = {"acquisition": "acquisitions.csv", "unicorn_list_entry": "unicorn_events.csv"}
_RMB = re.compile(r"-?[0-9]+(?:\.[0-9]{1,2})?")
_COUNT = re.compile(r"[0-9]+(?:\.0+)?")
TRUE_TEXT = frozenset({"1", "true", "yes", "y", "是"})


def decimal_text(value: Decimal) -> str:
    """A decimal written plainly, without exponent or trailing zeros: 7000000.00 → '7000000'."""
    text = format(value.normalize(), "f")
    return text


class RowChecker:
    """Validates the rows of one file. Issues accumulate in ``issues``; a row with any issue gives None."""

    def __init__(self, file: str, today: dt.date, *, ids_with_uscc: frozenset[str] = frozenset()) -> None:
        self.file = file
        self.today = today
        # Enterprises whose USCC is already stored: a row updating them may leave the cell empty.
        self.ids_with_uscc = ids_with_uscc
        self.issues: list[ImportIssue] = []
        self._line = 0
        self._row_failed = False

    def fail(self, column: str | None, value: str | None, key: str, **fields: Any) -> None:
        self.issues.append(ImportIssue(self.file, self._line, column, value, key, fields))
        self._row_failed = True

    def start(self, line: int) -> None:
        self._line = line
        self._row_failed = False

    @property
    def row_failed(self) -> bool:
        return self._row_failed

    # field parsers: each returns the parsed value, or None after reporting (or when empty and optional)

    def text(self, row: dict[str, str], column: str, *, required: bool = False) -> str | None:
        value = row.get(column, "").strip()
        if not value or is_blank(value):
            if required:
                self.fail(column, value, "field.required")
            return None
        char = control_character(value)
        if char is not None:
            self.fail(column, value, "field.control_char", char=char)
            return None
        limit = MAX_TEXT.get(column, 500)
        if len(value) > limit:
            self.fail(column, value, "field.too_long", max=limit)
            return None
        return value

    def date(self, row: dict[str, str], column: str, *, required: bool = False) -> dt.date | None:
        value = row.get(column, "").strip()
        if not value:
            if required:
                self.fail(column, "", "field.required")
            return None
        try:
            parsed = parse_iso_date(value)
        except ValueError:
            self.fail(column, value, "date.invalid")
            return None
        if parsed > self.today:
            self.fail(column, value, "date.future", today=self.today.isoformat())
            return None
        if parsed < EARLIEST:
            self.fail(column, value, "date.too_early", earliest=EARLIEST.isoformat())
            return None
        return parsed

    def amount(
        self,
        row: dict[str, str],
        column: str,
        currency_column: str | None,
        *,
        required: bool = False,
        default_currency: str | None = None,
    ) -> ParsedAmount | None:
        value = row.get(column, "").strip()
        currency_text = row.get(currency_column, "").strip() if currency_column else ""
        currency = default_currency
        if currency_text:
            currency = normalize_currency(currency_text)
            if currency is None:
                self.fail(currency_column, currency_text, "currency.unknown")
                return None
        if not value:
            if required:
                self.fail(column, "", "field.required")
            return None
        try:
            return parse_amount(value, currency)
        except ParseError as exc:
            self.fail(column, value, exc.key, **exc.fields)
            return None

    def exact_amount(
        self, row: dict[str, str], column: str, currency_column: str | None, *, required: bool = False
    ) -> tuple[Decimal | None, str | None]:
        parsed = self.amount(row, column, currency_column, required=required)
        if parsed is None:
            return None, None
        if parsed.value is None:
            if required or parsed.vague:
                self.fail(column, parsed.text, "amount.invalid")
            return None, parsed.currency
        return parsed.value, parsed.currency

    def rmb(self, row: dict[str, str], column: str) -> Decimal | None:
        """An operating-report amount in RMB yuan (may be negative: net profit), at most two decimals."""
        value = row.get(column, "").strip().replace(",", "")
        if not value:
            return None
        if not (value.isascii() and value.isdigit()) and _RMB.fullmatch(value) is None:
            self.fail(column, value, "number.invalid")
            return None
        return Decimal(value)

    def count(self, row: dict[str, str], column: str) -> int | None:
        """A non-negative whole number (employees, patents, a year)."""
        value = row.get(column, "").strip().replace(",", "")
        if not value:
            return None
        if value.isascii() and value.isdigit():
            return int(value)
        if _COUNT.fullmatch(value) is None:
            self.fail(column, value, "integer.invalid")
            return None
        return int(value.split(".")[0])

    def uscc(self, row: dict[str, str], column: str = "uscc") -> str | None:
        """A 统一社会信用代码, normalised and checked (GB 32100-2015 check digit)."""
        code = self.text(row, column)
        if code is None:
            return None
        code = uscc.normalize(code)
        problem = uscc.problem(code)
        if problem == "uscc.check_digit":
            self.fail(column, code, problem, expected=uscc.check_char(code[:17]))
        elif problem:
            self.fail(column, code, problem)
        return code

    def region(self, row: dict[str, str], column: str) -> str | None:
        """A known GB/T 2260 region code."""
        code = self.text(row, column)
        if code is not None and regions.get(code) is None:
            self.fail(column, code, "region.unknown")
            return None
        return code

    def tracks(self, row: dict[str, str], column: str = "tracks") -> list[str]:
        """Track codes from a ``;``-separated list of codes or Chinese/English names, sorted."""
        found: list[str] = []
        for part in row.get(column, "").replace("；", ";").split(";"):
            if part.strip():
                resolved = tracks.resolve(part)
                if resolved is None:
                    self.fail(column, row[column], "track.unknown", track=part.strip())
                elif resolved not in found:
                    found.append(resolved)
        return sorted(found)

    def company_ref(self, row: dict[str, str]) -> str | None:
        return self.text(row, "company_id", required=True)

    def flag(self, row: dict[str, str]) -> bool:
        """The ``synthetic`` (模拟数据) flag; an empty cell is False for a new record."""
        return row.get("synthetic", "").strip().lower() in TRUE_TEXT

    def flag_stated(self, row: dict[str, str]) -> bool:
        """Whether the row states the flag at all: an empty cell leaves a stored record's flag alone."""
        return bool(row.get("synthetic", "").strip())


def _extra_attributes(row: dict[str, str], kind: str) -> dict[str, str] | None:
    known = set(FILES[kind].columns)
    extra = {k: v for k, v in row.items() if k and k not in known and v.strip()}
    return extra or None


def check_company(c: RowChecker, row: dict[str, str]) -> Record:
    code = c.uscc(row)
    region_code = c.region(row, "region_code")
    if (
        region_code is not None
        and regions.is_zhejiang(region_code)
        and not code
        and row.get("id", "").strip() not in c.ids_with_uscc
    ):
        c.fail("uscc", "", "uscc.required_zhejiang")
    industry_code = c.text(row, "industry_code")
    if industry_code is not None:
        found = industries.get(industry_code)
        if found is None:
            c.fail("industry_code", industry_code, "industry.unknown")
        else:
            industry_code = found.code
    track_codes = c.tracks(row)
    status = c.text(row, "status")
    if status is not None:
        status = status.lower()
        if status not in STATUSES:
            c.fail("status", status, "status.unknown")
    return {
        "id": c.text(row, "id", required=True),
        "name": c.text(row, "name", required=True),
        "uscc": code,
        "name_en": c.text(row, "name_en"),
        "founded_on": c.date(row, "founded_on"),
        "country": c.text(row, "country"),
        "region_code": region_code,
        "city": c.text(row, "city"),
        "industry_code": industry_code,
        "category": c.text(row, "category"),
        "tracks": track_codes,
        "status": status,
        "status_as_of": c.date(row, "status_as_of"),
        "source": c.text(row, "source"),
        "is_synthetic": c.flag(row),
        "synthetic_stated": c.flag_stated(row),
        "attributes": _extra_attributes(row, "companies"),
    }


def _amount_key(parsed: ParsedAmount | None) -> str:
    if parsed is None:
        return ""
    text = parsed.canonical_text()
    return f"{text} {parsed.currency}" if text and parsed.currency else text


def check_round(c: RowChecker, row: dict[str, str]) -> Record:
    label = row.get("round_type", "").strip()
    round_type, round_label = "venture", None
    if label:
        try:
            result = parse_round_type(label)
            round_type, round_label = result.round_type, result.label
        except ParseError as exc:
            c.fail("round_type", label, exc.key, **exc.fields)
    explicit_label = c.text(row, "round_label")
    label_kept = explicit_label or round_label
    if label_kept is not None and len(label_kept) > 40:
        c.fail("round_label" if explicit_label else "round_type", label_kept, "field.too_long", max=40)
    amount = c.amount(row, "amount", "currency")
    post = c.amount(
        row,
        "post_money_valuation",
        "post_money_currency",
        default_currency=amount.currency if amount else None,
    )
    investors: list[str] = []
    for name in row.get("investors", "").replace("；", ";").split(";"):
        name = name.strip()
        if name and name not in investors:
            if len(name) > 200:
                c.fail("investors", name, "field.too_long", max=200)
            investors.append(name)
    return {
        "enterprise_id": c.company_ref(row),
        "announced_on": c.date(row, "announced_on", required=True),
        "round_type": round_type,
        "round_label": label_kept,
        "amount": amount.value if amount else None,
        "amount_low": amount.low if amount else None,
        "amount_high": amount.high if amount else None,
        "amount_vague": bool(amount and amount.vague),
        "amount_key": _amount_key(amount),
        "amount_text": amount.canonical_text() if amount and amount.vague else None,
        "currency": amount.currency if amount and (amount.value is not None or amount.vague) else None,
        "post_money_valuation": post.value if post else None,
        "post_money_currency": post.currency if post and (post.value is not None or post.vague) else None,
        "post_money_text": post.canonical_text() if post and post.vague else None,
        "investors": investors,
        "source": c.text(row, "source"),
        "is_synthetic": c.flag(row),
    }


def check_valuation(c: RowChecker, row: dict[str, str]) -> Record:
    value, currency = c.exact_amount(row, "value", "currency", required=True)
    evidence = (c.text(row, "evidence") or "estimated").lower()
    if evidence not in EVIDENCE_GRADES:
        c.fail("evidence", evidence, "evidence.unknown")
    return {
        "enterprise_id": c.company_ref(row),
        "as_of": c.date(row, "as_of", required=True),
        "value": value,
        "currency": currency,
        "evidence": evidence,
        "source": c.text(row, "source") or "",
        "is_synthetic": c.flag(row),
    }


def check_unicorn_event(c: RowChecker, row: dict[str, str]) -> Record:
    return {
        "enterprise_id": c.company_ref(row),
        "kind": "unicorn_list_entry",
        "occurred_on": c.date(row, "joined_on", required=True),
        "counterpart": "",
        "source": c.text(row, "source"),
        "is_synthetic": c.flag(row),
    }


def check_acquisition(c: RowChecker, row: dict[str, str]) -> Record:
    acquirer = c.text(row, "acquirer_name")
    price, currency = c.exact_amount(row, "price_amount", "price_currency")
    if currency is None:
        text = row.get("price_currency", "").strip()
        currency = normalize_currency(text) if text else None
    return {
        "enterprise_id": c.company_ref(row),
        "kind": "acquisition",
        "occurred_on": c.date(row, "acquired_on", required=True),
        "counterpart": acquirer or "",
        "acquirer_name": acquirer,
        "price_amount": price,
        "price_currency": currency,
        "source": c.text(row, "source"),
        "is_synthetic": c.flag(row),
    }


def check_lifecycle_event(c: RowChecker, row: dict[str, str]) -> Record:
    kind = (c.text(row, "kind", required=True) or "").lower()
    if kind in OWN_FILE_KINDS:
        c.fail("kind", kind, "event.own_file", file=OWN_FILE_KINDS[kind])
    elif kind and kind not in EVENT_KINDS:
        c.fail("kind", kind, "event.unknown")
    codes = {column: c.region(row, column) for column in ("from_region_code", "to_region_code")}
    detail = c.text(row, "detail")
    return {
        "enterprise_id": c.company_ref(row),
        "kind": kind,
        "occurred_on": c.date(row, "occurred_on", required=True),
        "counterpart": codes["to_region_code"] or "",
        "from_region_code": codes["from_region_code"],
        "to_region_code": codes["to_region_code"],
        "detail": detail,
        "source": c.text(row, "source"),
        "is_synthetic": c.flag(row),
    }


def check_operating_report(c: RowChecker, row: dict[str, str]) -> Record:
    year_text = row.get("year", "").strip()
    year = c.count(row, "year")
    if year is None and year_text == "":
        c.fail("year", "", "field.required")
    elif year is not None and not 1900 <= year <= c.today.year:
        c.fail("year", year_text, "year.invalid")
    return {
        "enterprise_id": c.company_ref(row),
        "year": year,
        "revenue": c.rmb(row, "revenue"),
        "net_profit": c.rmb(row, "net_profit"),
        "employees": c.count(row, "employees"),
        "rd_expense": c.rmb(row, "rd_expense"),
        "rd_staff": c.count(row, "rd_staff"),
        "invention_patents": c.count(row, "invention_patents"),
        "source": c.text(row, "source"),
        "is_synthetic": c.flag(row),
        "synthetic_stated": c.flag_stated(row),
    }


def check_status(c: RowChecker, row: dict[str, str]) -> Record:
    status = (c.text(row, "status", required=True) or "").lower()
    if status and status not in STATUSES:
        c.fail("status", status, "status.unknown")
    return {
        "enterprise_id": c.company_ref(row),
        "status": status,
        "as_of": c.date(row, "as_of", required=True),
        "source": c.text(row, "source"),
        "is_synthetic": c.flag(row),
    }


CHECKS: dict[str, Callable[[RowChecker, dict[str, str]], Record]] = {
    "companies": check_company,
    "rounds": check_round,
    "valuations": check_valuation,
    "unicorn_events": check_unicorn_event,
    "acquisitions": check_acquisition,
    "lifecycle_events": check_lifecycle_event,
    "operating_reports": check_operating_report,
    "status_history": check_status,
}
