"""Import benchmark: a generated package of N enterprises (default 100,000, with about 3 rounds each)
imported into a fresh SQLite file and a fresh PostgreSQL schema. Prints rows per second and peak memory.

    .venv/bin/python bench/import_bench.py [--enterprises 100000] [--postgres URL]

Each import runs in its own process, so its peak RSS is its own. The machine is shared and noisy: compare
the two backends run side by side, not absolute seconds across runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _rows_in(folder: Path) -> dict[str, int]:
    counts = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            counts[path.stem] = sum(1 for _ in csv.reader(fh)) - 1
    return counts


def child(url: str, package: str) -> None:
    """Migrate ``url`` and import ``package``; print timing and peak memory as JSON."""
    from alembic import command

    from qilin.db import get_engine, session_scope
    from qilin.migrations import config
    from qilin.registry.importer import import_package

    command.upgrade(config(url), "head")

    started = time.perf_counter()
    with session_scope(get_engine(url)) as session:
        report = import_package(session, paths=[Path(package)])
    seconds = time.perf_counter() - started
    assert not report.issues, [i.message("en") for i in report.issues[:5]]
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    inserted = sum(c.inserted for c in report.counts.values())
    print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "inserted": inserted}))


def _run_child(url: str, package: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, str(package)], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    # Every enterprise raises (the demo's default is 35%), to bring the rounds near 3 per enterprise.
    parser.add_argument("--funded-share", type=float, default=1.0)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--child", nargs=2, metavar=("URL", "PACKAGE"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from qilin.db import make_engine
    from qilin.demo.generate import generate_package

    with tempfile.TemporaryDirectory(prefix="qilin-bench-") as tmp:
        package = Path(tmp) / "package"
        started = time.perf_counter()
        generate_package(
            package,
            enterprises=args.enterprises,
            seed=args.seed,
            include_real=False,
            funded_share=args.funded_share,
        )
        generated = time.perf_counter() - started
        rows = _rows_in(package)
        total = sum(rows.values())
        print(f"generated {args.enterprises:,} enterprises in {generated:.1f}s: {total:,} rows {rows}")

        results = {"sqlite": _run_child(f"sqlite:///{tmp}/bench.sqlite3", package)}
        schema = f"qilin_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            results["postgresql"] = _run_child(f"{args.postgres}?options=-csearch_path%3D{schema}", package)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    print(f"{'backend':<12}{'seconds':>10}{'rows/s':>12}{'peak MiB':>10}")
    for backend, r in results.items():
        print(f"{backend:<12}{r['seconds']:>10.1f}{total / r['seconds']:>12,.0f}{r['peak_mib']:>10.0f}")
    ratio = results["postgresql"]["seconds"] / results["sqlite"]["seconds"]
    print(f"ratio of rows/s, sqlite to postgresql: {ratio:.2f}")


if __name__ == "__main__":
    main()
