"""Engine and sessions. SQLite (WAL) is the embedded default; PostgreSQL is production."""

from __future__ import annotations

import datetime as dt
import errno
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Dialect,
    Engine,
    LargeBinary,
    MetaData,
    and_,
    create_engine,
    event,
    func,
    literal_column,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session
from sqlalchemy.types import TypeDecorator

from qilin.common.files import OutputError
from qilin.common.messages import both

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MiB page cache: large imports maintain several unique indexes.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


@contextmanager
def migrating(connection: Connection) -> Iterator[None]:
    """What a migration on SQLite needs beyond the platform's settings, around its transaction:

    - its DDL inside the transaction: the ``sqlite3`` module begins one only before an INSERT, UPDATE or
      DELETE, so a migration failing halfway (a full disk) kept the tables it had made or dropped until
      then, and the next attempt stumbled on them. ``BEGIN`` here makes a failed migration leave nothing.
    - temporary storage in files rather than memory: a statement's journal of the pages it changes, large
      sorts. Dropping a table in a transaction journals its pages: 0.6 GB of memory for a table of 0.56 GB
      with ``temp_store=MEMORY`` (the platform's setting), 80 MB with ``FILE`` (measured).

    Must start before the transaction (SQLite refuses the setting inside one). Nothing elsewhere."""
    raw = connection.connection.driver_connection
    if connection.dialect.name != "sqlite" or raw is None or raw.in_transaction:  # begun: left as it is
        yield
        return
    before = int(raw.execute("PRAGMA temp_store").fetchone()[0])
    raw.execute("PRAGMA temp_store=FILE")
    raw.execute("BEGIN")  # committed or rolled back by the caller's transaction
    try:
        yield
    finally:
        if not raw.in_transaction:  # it always should be over; if not, the setting is only slower
            raw.execute(f"PRAGMA temp_store={before}")


SQLITE_POOL_SIZE = 40


# The drivers Qilin ships with: SQLite (the standard library's) and PostgreSQL through psycopg 3.
SUPPORTED_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"})


class DatabaseUrlError(ValueError):
    """A database URL Qilin cannot use. The message is bilingual, names ``QILIN_DATABASE_URL`` and never
    repeats the URL, which may hold a password."""


def parse_database_url(url: str) -> URL:
    """``url`` parsed, or :class:`DatabaseUrlError`: a SQLite file or a PostgreSQL database, nothing else.

    >>> parse_database_url("postgresql://qilin:secret@db:5432/qilin").port
    5432
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseUrlError(both("settings.database_url")) from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        kind = parsed.drivername if parsed.drivername.replace("+", "").isalnum() else "?"
        raise DatabaseUrlError(both("settings.database_kind", kind=kind))
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise DatabaseUrlError(both("settings.database_port"))
    if parsed.drivername.startswith("sqlite") and parsed.database in (None, "", ":memory:"):
        # An in-memory database would be a new, empty one on every connection of the pool.
        raise DatabaseUrlError(both("settings.database_url"))
    return parsed


def normalize_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would otherwise look for psycopg2)."""
    parsed = parse_database_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_folder(database: str) -> None:
    """Create the folder of a SQLite file; a place that cannot hold it is refused with the reason."""
    from qilin.config import SettingsError  # qilin.config imports this module

    path = Path(database)
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", database)
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = OutputError.from_os(path, exc)
        raise SettingsError(
            both("settings.database_folder", path=database, zh=reason.zh, en=reason.en)
        ) from None


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for a SQLite file, its folder is created and WAL mode switched on."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _sqlite_folder(parsed.database)
        # A pool as large as the web server's thread pool may use at once: a connection opened beyond it
        # would be closed after each request, and a new one starts with an empty page cache.
        engine = create_engine(url, pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_SIZE)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured database)."""
    from qilin.config import get_settings

    key = url or get_settings().database_url
    if key not in _engines:
        _engines[key] = make_engine(key)
    return _engines[key]


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any exception."""
    # A plain Session, not a sessionmaker per call: each sessionmaker makes a new Session subclass, which
    # cost about 80 µs a request (and left event bookkeeping behind for the collector).
    session = Session(bind=engine or get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def pack_json(value: Any) -> bytes:
    """``value`` as zlib-compressed compact JSON (what :class:`CompressedJSON` stores)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return zlib.compress(text.encode("utf-8"), 1)


def unpack_json(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


class CompressedJSON(TypeDecorator[Any]):
    """A JSON document stored zlib-compressed (LargeBinary), for large documents read only whole: a tier
    trace (9 KB of JSON, 0.9 KB so; a snapshot of 100,000 enterprises took 0.9 GB in SQLite). Not for
    documents a query looks into."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else pack_json(value)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> Any:
        return None if value is None else unpack_json(value)


class Amount(TypeDecorator[Decimal]):
    """An exact money amount stored as a whole number of hundredths (BigInteger).

    SQLite has no exact decimal type; storing cents keeps amounts exact, sortable and summable on both
    databases. Values with more than two decimals are refused rather than rounded silently.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        cents = Decimal(value).scaleb(2)
        whole = int(cents)
        if whole != cents:
            raise ValueError(f"amount {value} has more than two decimals")
        return whole

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value) / 100


MAX_ID = 2**31 - 1
"""The largest integer id an INTEGER column holds (PostgreSQL's int4): a larger id in a URL or a command is
refused before the query, which would otherwise fail with an overflow."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def code_prefix(
    column: ColumnElement[str | None] | InstrumentedAttribute[str | None], prefix: str
) -> ColumnElement[bool]:
    """``column`` starts with the digits ``prefix`` (a region-code prefix: 33, 3301), as a range that an
    index serves (``LIKE 'x%'`` is not index-served by SQLite's default case-insensitive LIKE)."""
    if not prefix.isdigit():
        raise ValueError(f"not a numeric code prefix: {prefix!r}")
    if len(prefix) == 4:  # a city: the form of the ix_enterprises_city_name expression index
        # Literal 1 and 4: SQLite matches an expression index only against the same literal expression.
        return func.substr(column, literal_column("1"), literal_column("4")) == prefix
    upper = str(int(prefix) + 1).zfill(len(prefix))
    return and_(column >= prefix, column < upper)
