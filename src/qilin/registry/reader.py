"""Reading a data package: a folder of CSV/XLSX files, or single files. Only reads; validation is elsewhere.

A file's kind (companies, rounds, …) comes from its name (``rounds.csv``, ``rounds_2024.xlsx``), an XLSX
sheet's name, or, failing both, from its header row.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qilin.config import get_settings
from qilin.registry.issues import ImportIssue
from qilin.registry.package import FILES

REJECTS_SUFFIX = ".rejects.csv"


@dataclass(slots=True)
class SourceTable:
    """The rows of one file (or sheet) with their line numbers as a spreadsheet program shows them."""

    kind: str
    path: Path
    sheet: str | None
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    # line → how many non-empty values a row has beyond the header (reported, never dropped silently)
    overflow: dict[int, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.path.name}[{self.sheet}]" if self.sheet else self.path.name


def kind_from_name(name: str) -> str | None:
    """The kind a file or sheet name means (``rounds``, ``rounds_2024`` → rounds), or None."""
    stem = name.lower().strip()
    if stem in FILES:
        return stem
    matches = [kind for kind in FILES if stem.startswith(kind)]
    return max(matches, key=len) if matches else None


def kind_from_columns(columns: list[str]) -> str | None:
    """The one kind whose required columns are all in ``columns``, or None (none, or a tie)."""
    present = set(columns)
    matches = [kind for kind, spec in FILES.items() if set(spec.required) <= present]
    # The most specific match wins (companies' id/name is a subset of few others).
    matches.sort(key=lambda k: len(FILES[k].required), reverse=True)
    if len(matches) >= 2 and len(FILES[matches[0]].required) == len(FILES[matches[1]].required):
        return None
    return matches[0] if matches else None


def clean_header(columns: list[str]) -> list[str]:
    """Header names as the readers understand them: trimmed, a UTF-8 byte-order mark dropped."""
    return [c.strip().lstrip("\ufeff").strip() for c in columns]


def duplicate_columns(columns: list[str]) -> list[str]:
    """Named columns (after :func:`clean_header`) that appear more than once, in order of first
    appearance. Such a file is refused: keeping either column would silently drop the other's values."""
    counts = Counter(c for c in columns if c)
    return [c for c in counts if counts[c] > 1]


def _read_csv(path: Path, issues: list[ImportIssue]) -> list[SourceTable]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                return []
            columns = clean_header(header)
            kind = kind_from_name(path.stem) or kind_from_columns(columns)
            if kind is None:
                issues.append(
                    ImportIssue(path.name, None, None, None, "import.file_unknown", {"name": path.name})
                )
                return []
            repeated = duplicate_columns(columns)
            if repeated:
                issues.append(_duplicates_issue(path.name, repeated))
                return []
            table = SourceTable(kind, path, None, columns)
            width = len(columns)
            line = reader.line_num
            for values in reader:
                start = line + 1
                line = reader.line_num
                if not any(v.strip() for v in values):
                    continue
                if len(values) < width:
                    values = values + [""] * (width - len(values))
                elif len(values) > width:
                    extra = sum(1 for v in values[width:] if v.strip())
                    if extra:
                        table.overflow[start] = extra
                table.rows.append((start, dict(zip(columns, values, strict=False))))
            return [table]
    except UnicodeDecodeError:
        issues.append(ImportIssue(path.name, None, None, None, "import.encoding"))
        return []


def _duplicates_issue(label: str, repeated: list[str]) -> ImportIssue:
    return ImportIssue(label, None, None, None, "import.duplicate_columns", {"columns": ", ".join(repeated)})


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV would hold (dates ISO, whole floats without '.0')."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


class WorkbookProblem(Exception):
    """A workbook refused whole (too big, damaged): the ``key`` and ``fields`` of an import message."""

    def __init__(self, key: str, **fields: Any) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields


def open_workbook(path: Path) -> Any:
    """The workbook, read-only with cell values, once its size and unpacked size are within the settings'
    bounds (a zip bomb is refused before it is opened); raise :class:`WorkbookProblem` otherwise."""
    settings = get_settings()
    size = path.stat().st_size
    if size > settings.xlsx_max_bytes:
        raise WorkbookProblem("import.xlsx_too_big", size=size, limit=settings.xlsx_max_bytes)
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
        if unpacked > settings.xlsx_max_uncompressed_bytes:
            raise WorkbookProblem(
                "import.xlsx_too_big", size=unpacked, limit=settings.xlsx_max_uncompressed_bytes
            )
        from openpyxl import load_workbook

        return load_workbook(path, read_only=True, data_only=True)
    except WorkbookProblem:
        raise
    except Exception as exc:  # any damage to the file: a message, never a traceback
        raise WorkbookProblem("import.xlsx_invalid", reason=str(exc)) from exc


def read_xlsx(path: Path, issues: list[ImportIssue]) -> list[SourceTable]:
    """The sheets of a workbook whose kind is known; problems (size, damage, unknown sheets) → ``issues``."""
    try:
        workbook = open_workbook(path)
    except WorkbookProblem as problem:
        issues.append(ImportIssue(path.name, None, None, None, problem.key, problem.fields))
        return []
    try:
        return _read_sheets(path, workbook, issues)
    except Exception as exc:  # a damaged sheet inside a valid zip: tell the user, never a traceback
        issues.append(ImportIssue(path.name, None, None, None, "import.xlsx_invalid", {"reason": str(exc)}))
        return []
    finally:
        workbook.close()


def _read_sheets(path: Path, workbook: Any, issues: list[ImportIssue]) -> list[SourceTable]:
    settings = get_settings()
    tables: list[SourceTable] = []
    sheets = list(workbook.worksheets)
    for sheet in sheets:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            continue
        columns = clean_header([cell_text(v) for v in header])
        while columns and not columns[-1]:
            columns.pop()
        kind = (
            kind_from_name(sheet.title)
            or (kind_from_name(path.stem) if len(sheets) == 1 else None)
            or kind_from_columns(columns)
        )
        label = f"{path.name}[{sheet.title}]"
        if kind is None:
            issues.append(ImportIssue(label, None, None, None, "import.file_unknown", {"name": label}))
            continue
        repeated = duplicate_columns(columns)
        if repeated:
            issues.append(_duplicates_issue(label, repeated))
            continue
        table = SourceTable(kind, path, sheet.title, columns)
        for number, values in enumerate(rows, start=2):
            if number - 1 > settings.xlsx_max_rows:
                issues.append(
                    ImportIssue(
                        label,
                        None,
                        None,
                        None,
                        "import.xlsx_too_many_rows",
                        {"sheet": sheet.title, "limit": settings.xlsx_max_rows},
                    )
                )
                table.rows.clear()
                break
            texts = [cell_text(v) for v in values[: len(columns)]]
            extra = sum(1 for v in values[len(columns) :] if cell_text(v))
            if not any(texts) and not extra:
                continue
            if extra:
                table.overflow[number] = extra
            texts += [""] * (len(columns) - len(texts))
            table.rows.append((number, dict(zip(columns, texts, strict=True))))
        else:
            tables.append(table)
    return tables


def package_files(path: Path) -> list[Path]:
    """The CSV and XLSX files of a package folder, by name (not rejects, hidden or Excel lock files)."""
    return sorted(
        p
        for p in path.iterdir()
        if p.is_file()
        and p.suffix.lower() in (".csv", ".xlsx")
        and not p.name.endswith(REJECTS_SUFFIX)
        and not p.name.startswith((".", "~$"))
    )


def read_package(paths: list[Path]) -> tuple[list[SourceTable], list[ImportIssue]]:
    """Read every file under ``paths``; problems with whole files come back as issues."""
    issues: list[ImportIssue] = []
    tables: list[SourceTable] = []
    for path in paths:
        if not path.exists():
            issues.append(ImportIssue(str(path), None, None, None, "import.not_found", {"path": str(path)}))
            continue
        for file in package_files(path) if path.is_dir() else [path]:
            if file.suffix.lower() == ".xlsx":
                tables.extend(read_xlsx(file, issues))
            elif file.suffix.lower() == ".csv":
                tables.extend(_read_csv(file, issues))
            else:
                issues.append(
                    ImportIssue(file.name, None, None, None, "import.file_unknown", {"name": file.name})
                )
    for table in tables:
        missing = [c for c in FILES[table.kind].required if c not in table.columns]
        if missing:
            issues.append(
                ImportIssue(
                    table.label, 1, None, None, "import.missing_columns", {"columns": ", ".join(missing)}
                )
            )
    return tables, issues
