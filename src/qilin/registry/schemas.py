"""API shapes of registry records. Money travels as a decimal string (exact) with its currency and the
Chinese reading (``1.44亿元``); roles without the financial permission get ``null`` instead."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from qilin.common.messages import t
from qilin.common.text import control_character, is_blank


class EnterpriseItem(BaseModel):
    id: str
    name: str
    name_en: str | None
    uscc: str | None
    region_code: str | None
    city: str | None
    county: str | None
    founded_on: dt.date | None
    status: str
    tier: str | None
    latest_stage: str | None
    tracks: list[str]
    is_synthetic: bool


class EnterprisePage(BaseModel):
    items: list[EnterpriseItem]
    total: int
    page: int
    page_size: int
    tier_snapshot_as_of: dt.date | None = Field(description="date of the tier snapshot the tiers come from")


class MoneyOut(BaseModel):
    amount: str
    currency: str
    text: str


class EnterpriseDetail(EnterpriseItem):
    industry_code: str | None
    category: str | None
    country: str | None
    status_as_of: dt.date | None
    source: str | None
    latest_valuation: MoneyOut | None
    latest_valuation_as_of: dt.date | None
    latest_valuation_evidence: str | None
    financial_hidden: bool


class EnterprisePatch(BaseModel):
    """Fields an officer may correct. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    founded_on: dt.date | None = None
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    industry_code: str | None = Field(default=None, max_length=8)
    category: str | None = Field(default=None, max_length=64)

    @field_validator("name", "name_en", "category", "industry_code")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        """Trimmed; a control character refused (it breaks exports and PostgreSQL refuses NUL); a value
        that shows nothing (zero-width characters only) counts as empty."""
        if not isinstance(value, str):
            return value
        char = control_character(value)
        if char is not None:
            zh, en = (t("field.control_char", lang=lang, char=char) for lang in ("zh", "en"))
            raise ValueError(f"{zh} / {en}")
        return "" if is_blank(value) else value.strip()

    @field_validator("name_en", "category", "industry_code")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        """An empty optional value clears the field (stored as null, as the edit form does)."""
        return value or None


class RoundOut(BaseModel):
    id: int
    announced_on: dt.date
    round_type: str
    round_label: str | None
    amount: MoneyOut | None
    amount_range: str | None
    amount_text: str | None
    post_money_valuation: MoneyOut | None
    investors: list[str]
    is_synthetic: bool


class ValuationOut(BaseModel):
    id: int
    as_of: dt.date
    value: MoneyOut
    evidence: str
    source: str
    is_synthetic: bool


class EventOut(BaseModel):
    id: int
    kind: str
    occurred_on: dt.date
    counterpart: str
    detail: str | None
    from_region_code: str | None
    to_region_code: str | None
