"""Helpers for the registry tests: write data packages from Python dicts, run the CLI, read its report,
and a few valid Zhejiang companies."""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from qilin.app import create_app
from qilin.config import Settings
from qilin.migrations.models import Base
from qilin.reference import uscc
from qilin.registry.package import FILES

Row = Mapping[str, Any]

# Valid 统一社会信用代码 built with the real check characters.
USCC_WESTLAKE = uscc.build("330106", "MA27XK01")  # 杭州市西湖区
USCC_YINZHOU = uscc.build("330212", "MA2CH4E0")  # 宁波市鄞州区
USCC_BINJIANG = uscc.build("330108", "MA2B0E6L")  # 杭州市滨江区
USCC_YUHANG = uscc.build("330110", "MA27Y8Q3")  # 杭州市余杭区


def company(id: str, name: str, **fields: Any) -> dict[str, Any]:
    """A companies row; only the given fields are filled."""
    return {"id": id, "name": name, **fields}


def westlake(**fields: Any) -> dict[str, Any]:
    """A valid company registered in 杭州市西湖区."""
    row = company(
        "zj-westlake",
        "杭州西湖智能科技有限公司",
        uscc=USCC_WESTLAKE,
        founded_on="2018-03-12",
        country="CN",
        region_code="330106",
        city="杭州市",
        industry_code="6513",
        tracks="人工智能",
    )
    return row | fields


def yinzhou(**fields: Any) -> dict[str, Any]:
    """A valid company registered in 宁波市鄞州区."""
    row = company(
        "zj-yinzhou",
        "宁波鄞州新材料股份有限公司",
        uscc=USCC_YINZHOU,
        founded_on="2015-07-01",
        country="CN",
        region_code="330212",
        city="宁波市",
        industry_code="C",
        tracks="advanced_materials",
    )
    return row | fields


def binjiang(**fields: Any) -> dict[str, Any]:
    """A valid company registered in 杭州市滨江区."""
    row = company(
        "zj-binjiang",
        "杭州滨江生物医药有限公司",
        uscc=USCC_BINJIANG,
        founded_on="2019-11-20",
        country="CN",
        region_code="330108",
        city="杭州市",
        industry_code="2720",
        tracks="生物医药",
    )
    return row | fields


def overseas(**fields: Any) -> dict[str, Any]:
    """A valid company outside China (no USCC, no region code)."""
    row = company("us-acme", "Acme Robotics", name_en="Acme Robotics Inc.", country="USA", city="Boston")
    return row | fields


def round_(company_id: str, announced_on: str, **fields: Any) -> dict[str, Any]:
    return {"company_id": company_id, "announced_on": announced_on, **fields}


def columns_for(kind: str, rows: Iterable[Row]) -> list[str]:
    """The package columns of ``kind`` followed by any other keys of ``rows`` in order of appearance."""
    columns = list(FILES[kind].columns)
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return columns


def write_csv(path: Path, columns: list[str], rows: Iterable[Row]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])
    return path


def write_package(folder: Path, **kinds: list[dict[str, Any]] | None) -> Path:
    """Write ``folder/<kind>.csv`` for every kind given (``companies=[...]``, ``rounds=[...]`` …)."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in kinds.items():
        if rows is None:
            continue
        if kind not in FILES:
            raise ValueError(f"unknown kind {kind}")
        write_csv(folder / f"{kind}.csv", columns_for(kind, rows), rows)
    return folder


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ---- CLI --------------------------------------------------------------------------------------------------


def cli(*args: str | Path) -> Result:
    """Run ``qilin <args>`` in-process, wide enough that neither messages nor the report wrap."""
    from qilin.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "400"})


def qilin_import(*args: str | Path) -> Result:
    return cli("import", *args)


_REPORT_ROW = re.compile(r"^│\s*(\w+)\s*│" + r"\s*(\d+)\s*│" * 5)


def report_counts(output: str) -> dict[str, dict[str, int]]:
    """The import report table: kind → read/inserted/updated/unchanged/rejected."""
    counts: dict[str, dict[str, int]] = {}
    for line in output.splitlines():
        m = _REPORT_ROW.match(line.strip())
        if m:
            kind, *numbers = m.groups()
            counts[kind] = dict(
                zip(("read", "inserted", "updated", "unchanged", "rejected"), map(int, numbers), strict=True)
            )
    return counts


# ---- database ---------------------------------------------------------------------------------------------


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, the append-only audit log left out (it records the writes being counted)."""
    with engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
            if table.name != "audit_log"
        }


def table_dump(engine: Engine, *, exclude: Iterable[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sorted), for before/after comparisons of small databases. The audit log
    is left out: every import adds a row to it by design (tests/test_audit.py checks it)."""
    skip = {*exclude, "audit_log"}
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            out[table.name] = sorted((tuple(r) for r in conn.execute(select(table))), key=repr)
    return out


def clear_database(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "audit_log":  # append-only: PostgreSQL refuses deletes
                conn.execute(table.delete())


def start_up(database_url: str) -> None:
    """A server's start-up on ``database_url``, not under test settings (which build nothing ahead), and
    what it builds in the background, waited for."""
    with TestClient(create_app(Settings(env="development", database_url=database_url))):
        for thread in threading.enumerate():
            if thread.name == "qilin-build-ahead":
                thread.join(timeout=60)
