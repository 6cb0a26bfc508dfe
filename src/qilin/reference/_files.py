"""Reading the packaged reference CSV files."""

from __future__ import annotations

import csv
import io
from importlib import resources


def read_text(name: str) -> str:
    return resources.files("qilin.reference").joinpath("data", name).read_text(encoding="utf-8")


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a CSV file in ``qilin/reference/data`` as dicts of strings."""
    return list(csv.DictReader(io.StringIO(read_text(name), newline="")))
