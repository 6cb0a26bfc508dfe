"""Build the demo database (演示数据): the real Zhejiang unicorns (public facts, attributed) plus a seeded
synthetic cohort (模拟数据), written as a data package and loaded through the normal importer."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qilin.demo.generate import generate_package
from qilin.registry.importer import ImportReport, Progress, import_package
from qilin.registry.models import Enterprise

DEFAULT_ENTERPRISES = 5000
DEFAULT_SEED = 20240101


class DemoImportError(RuntimeError):
    """The generated package did not import cleanly: a bug in the generator, never the user's fault."""


def is_empty(session: Session) -> bool:
    return (session.scalar(select(func.count()).select_from(Enterprise)) or 0) == 0


def build_demo(
    session: Session,
    *,
    enterprises: int = DEFAULT_ENTERPRISES,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> ImportReport:
    """Generate the demo package in a temporary folder and import it inside the caller's transaction."""
    with tempfile.TemporaryDirectory(prefix="qilin-demo-") as folder:
        generate_package(Path(folder), enterprises=enterprises, seed=seed)
        report = import_package(session, paths=[Path(folder)], progress=progress)
    if report.issues:
        raise DemoImportError("; ".join(i.message("en") for i in report.issues[:5]))
    return report
