"""The data package (DESIGN.md §5): a folder of UTF-8 CSV files (or XLSX sheets) with a header row.

This module is the one description of the files: their names, required columns, and the column order
an export writes. Columns not listed here are kept as per-record attributes and written back after the
listed ones, in sorted order. Empty means unknown; ``synthetic`` is ``1`` for generated (模拟) records.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileSpec:
    kind: str
    required: tuple[str, ...]
    columns: tuple[str, ...]  # export order; required ones first
    keeps_attributes: bool = False


FILES: dict[str, FileSpec] = {
    spec.kind: spec
    for spec in (
        FileSpec(
            "companies",
            ("id", "name"),
            (
                "id",
                "name",
                "uscc",
                "name_en",
                "founded_on",
                "country",
                "region_code",
                "city",
                "industry_code",
                "category",
                "tracks",
                "status",
                "status_as_of",
                "source",
                "synthetic",
            ),
            keeps_attributes=True,
        ),
        FileSpec(
            "rounds",
            ("company_id", "announced_on"),
            (
                "company_id",
                "announced_on",
                "round_type",
                "round_label",
                "amount",
                "currency",
                "post_money_valuation",
                "post_money_currency",
                "investors",
                "source",
                "synthetic",
            ),
        ),
        FileSpec(
            "valuations",
            ("company_id", "as_of", "value", "currency"),
            ("company_id", "as_of", "value", "currency", "evidence", "source", "synthetic"),
        ),
        FileSpec(
            "unicorn_events", ("company_id", "joined_on"), ("company_id", "joined_on", "source", "synthetic")
        ),
        FileSpec(
            "acquisitions",
            ("company_id", "acquired_on"),
            (
                "company_id",
                "acquired_on",
                "acquirer_name",
                "price_amount",
                "price_currency",
                "source",
                "synthetic",
            ),
        ),
        FileSpec(
            "operating_reports",
            ("company_id", "year"),
            (
                "company_id",
                "year",
                "revenue",
                "net_profit",
                "employees",
                "rd_expense",
                "rd_staff",
                "invention_patents",
                "source",
                "synthetic",
            ),
        ),
        FileSpec(
            "lifecycle_events",
            ("company_id", "kind", "occurred_on"),
            (
                "company_id",
                "kind",
                "occurred_on",
                "from_region_code",
                "to_region_code",
                "detail",
                "source",
                "synthetic",
            ),
        ),
        FileSpec(
            "status_history",
            ("company_id", "status", "as_of"),
            ("company_id", "status", "as_of", "source", "synthetic"),
        ),
    )
}

# Import order: companies first, so that every other file can refer to them.
IMPORT_ORDER: tuple[str, ...] = tuple(FILES)

ROUND_TYPES: tuple[str, ...] = (
    "angel",
    "seed",
    "series-a",
    "series-b",
    "series-c+",
    "venture",
    "private-equity",
    "strategic",
    "debt",
    "grant",
    "crowdfunding",
    "ipo",
    "post-ipo",
    "other",
)
STATUSES: tuple[str, ...] = ("operating", "acquired", "closed", "ipo")
EVIDENCE_GRADES: tuple[str, ...] = ("disclosed", "third-party-list", "estimated", "self-declared")
EVENT_KINDS: tuple[str, ...] = ("ipo", "acquisition", "closure", "relocation", "unicorn_list_entry")
