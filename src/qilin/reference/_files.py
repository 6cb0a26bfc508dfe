"""Reading the packaged reference CSV files."""

from __future__ import annotations

import csv
from importlib import resources


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a CSV file in ``qilin/reference/data`` as dicts of strings."""
    with resources.files("qilin.reference").joinpath("data", name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
