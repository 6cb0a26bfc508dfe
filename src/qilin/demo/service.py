"""Build the demo database (演示数据): the real Zhejiang unicorns (public facts, attributed) plus a seeded
synthetic cohort (模拟数据), written as a data package and loaded through the normal importer."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qilin.demo.generate import DEFAULT_AS_OF, generate_package
from qilin.demo.leads import DEMO_FUND_ASSOCIATION
from qilin.registry.importer import ImportReport, Progress, Silent, import_package
from qilin.registry.models import Enterprise

DEFAULT_ENTERPRISES = 5000
DEFAULT_SEED = 20240101
# The largest synthetic cohort the CLIs accept (``qilin run``, ``qilin demo``, ``qilin demo generate``): the
# scale the benchmarks (bench/) are run at; far more would run for hours or exhaust memory.
MAX_ENTERPRISES = 1_000_000
# The smallest cohort ``qilin run`` builds the platform on: fewer leave the discovery run without funding
# rounds to score (about a third of the cohort raises) and the cockpit nearly empty.
MIN_RUN_ENTERPRISES = 100


class DemoImportError(RuntimeError):
    """The generated package did not import cleanly: a bug in the generator, never the user's fault."""


def is_empty(session: Session) -> bool:
    return (session.scalar(select(func.count()).select_from(Enterprise)) or 0) == 0


def has_platform_views(session: Session) -> bool:
    """Whether a tier snapshot or a discovery run exists (what :func:`build_platform_views` makes)."""
    from qilin.discovery.runs_models import DiscoveryRun
    from qilin.tiers.models import TierSnapshot

    return (
        session.scalar(select(TierSnapshot.id).limit(1)) is not None
        or session.scalar(select(DiscoveryRun.id).limit(1)) is not None
    )


def build_demo(
    session: Session,
    *,
    enterprises: int = DEFAULT_ENTERPRISES,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
    as_of: dt.date | None = None,
) -> ImportReport:
    """Generate the demo package in a temporary folder and import it inside the caller's transaction.
    ``as_of``: the day the synthetic history runs to (default: the generator's fixed ``DEFAULT_AS_OF``, so
    one seed gives the same data on any day; ``qilin run`` gives today, so the platform opens on current
    activity)."""
    with tempfile.TemporaryDirectory(prefix="qilin-demo-") as folder:
        generate_package(Path(folder), enterprises=enterprises, seed=seed, as_of=as_of or DEFAULT_AS_OF)
        report = import_package(session, paths=[Path(folder)], progress=progress)
    if report.issues:
        raise DemoImportError("; ".join(i.message("en") for i in report.issues[:5]))
    return report


# One demo account per role (演示账户). Passwords are generated at first run, stored hashed, printed once.
DEMO_ACCOUNTS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("admin", "province_admin", None, None),
    ("viewer", "province_viewer", None, None),
    ("department", "department", None, None),
    ("hangzhou", "city_officer", "330100", None),
    ("xihu", "county_officer", "330106", None),
    ("recommender", "recommender", None, DEMO_FUND_ASSOCIATION),
    ("enterprise", "enterprise", None, None),
)


def create_demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo accounts that do not exist yet; (username, role, password) of those created."""
    from qilin.audit.service import Actor
    from qilin.auth import service as users
    from qilin.auth.passwords import generate_password

    first = session.scalar(
        select(Enterprise.id).where(Enterprise.is_synthetic.is_(False)).order_by(Enterprise.id)
    )
    first = first or session.scalar(select(Enterprise.id).order_by(Enterprise.id))
    created = []
    for username, role, region, organization in DEMO_ACCOUNTS:
        if users.get_by_username(session, username=username) is not None:
            continue
        if role == "enterprise" and first is None:
            continue
        password = generate_password()
        users.create(
            session,
            username=username,
            password=password,
            role=role,
            region_code=region,
            organization=organization,
            enterprise_id=first if role == "enterprise" else None,
            actor=Actor.cli(),
        )
        created.append((username, role, password))
    return created


def demo_snapshot_dates(today: dt.date, first_year: int = 2019) -> list[dt.date]:
    """30 June of each year from ``first_year`` while it is not in the future, then today."""
    dates = [dt.date(y, 6, 30) for y in range(first_year, today.year + 1) if dt.date(y, 6, 30) < today]
    return [*dates, today]


def build_platform_views(
    session: Session, *, today: dt.date, progress: Progress | None = None
) -> tuple[int, int]:
    """Tier snapshots for the demo's history (yearly) and a discovery run as of ``today``, so the cockpit,
    the map and the watch-list have something to show; ``progress`` hears of each snapshot (about a minute
    each at 100,000 enterprises) and of the run. Returns (snapshots taken, enterprises scored)."""
    from qilin.discovery.runs import run_discovery
    from qilin.tiers.models import TierSnapshot
    from qilin.tiers.service import take_snapshot

    days = [
        day
        for day in demo_snapshot_dates(today)
        if session.scalar(select(TierSnapshot.id).where(TierSnapshot.as_of == day)) is None
    ]
    progress = progress or Silent()
    progress.stage("snapshots", len(days))
    for day in days:
        take_snapshot(session, as_of=day, taken_by="demo")
        progress.advance()
    progress.stage("discovery", 1)
    run = run_discovery(session, as_of=today)
    progress.advance()
    return len(days), run.enterprises
