"""``qilin discover run``: score the registry on an as-of date and keep the scores as history (运行记录).

A run reads the registry as a data package (:func:`~qilin.discovery.registry_data.package_from_db`), ranks
the enterprises operating and not yet unicorns on the as-of date with a model (default: the shipped one,
:data:`~qilin.discovery.model.DEFAULT_MODEL_PATH`) exactly as ``qilin discover rank`` does, and stores per
enterprise its score, rank, reasons in both languages and its place in the three baseline rankings under one
:class:`DiscoveryRun`, which also keeps the model file's back-test. The model version
is the model file's training as-of date and sha256, so a retrained model is a new version. A second run for
the same as-of date and model version is refused (:class:`RunError` ``discover.run_exists``): runs are
history, never replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qilin.common.messages import CATALOG
from qilin.discovery.data import DiscoveryError
from qilin.discovery.model import BASELINE_RANK_COLUMNS, DEFAULT_MODEL_PATH, load_model, rank
from qilin.discovery.registry_data import package_from_db
from qilin.discovery.runs_models import DiscoveryRun, DiscoveryScore

__all__ = ["RunError", "list_runs", "model_version", "run_discovery"]

_SEPARATORS = {"zh": "；", "en": "; "}
_BATCH = 5000


class RunError(DiscoveryError):
    """A refused run; its messages (keys ``discover.*``) live in :data:`qilin.common.messages.CATALOG`."""

    def __init__(self, key: str, **fields: Any) -> None:
        self.key = key
        self.fields = fields
        self.zh = CATALOG[key]["zh"].format(**fields)
        self.en = CATALOG[key]["en"].format(**fields)
        Exception.__init__(self, f"{self.zh} / {self.en}")


def model_version(path: Path, metadata: dict[str, Any]) -> str:
    """``<training as-of>+sha256:<first 16 hex of the file's sha256>``, e.g. ``2013-10-01+sha256:1a2b…``."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"{metadata.get('training_as_of', 'unknown')}+sha256:{digest[:16]}"


def _existing(session: Session, as_of: dt.date, version: str) -> DiscoveryRun | None:
    return session.scalars(
        select(DiscoveryRun).where(DiscoveryRun.as_of == as_of, DiscoveryRun.model_version == version)
    ).first()


def _refusal(run: DiscoveryRun) -> RunError:
    return RunError(
        "discover.run_exists",
        as_of=run.as_of.isoformat(),
        model_version=run.model_version,
        run_id=run.id,
        created_at=run.created_at.isoformat(timespec="seconds"),
    )


def run_discovery(
    session: Session, *, as_of: dt.date, model_path: Path | None = None, top: int = 3
) -> DiscoveryRun:
    """Score the registry on ``as_of`` and store the run (in the caller's transaction); raise
    :class:`RunError` when a run for the same date and model version exists, and
    :class:`~qilin.discovery.data.DiscoveryError` for a bad model file or a date with nothing to score."""
    path = Path(model_path or DEFAULT_MODEL_PATH)
    model, metadata = load_model(path)
    version = model_version(path, metadata)
    previous = _existing(session, as_of, version)
    if previous is not None:
        raise _refusal(previous)
    package = package_from_db(session)
    ranked = rank(package, as_of=as_of, model=model, lang="zh", top=top, baselines=True, extra_langs=("en",))
    backtest = metadata.get("backtest")
    run = DiscoveryRun(
        as_of=as_of,
        model_version=version,
        enterprises=ranked.height,
        backtest=backtest if isinstance(backtest, dict) else None,
    )
    session.add(run)
    try:
        session.flush()
    except IntegrityError:  # a concurrent run for the same date and model
        session.rollback()
        previous = _existing(session, as_of, version)
        if previous is None:
            raise
        raise _refusal(previous) from None
    rows = [
        {
            "run_id": run.id,
            "enterprise_id": company_id,
            "score": float(score),
            "rank": int(position),
            "reasons": {
                "zh": [p for p in (zh or "").split(_SEPARATORS["zh"]) if p],
                "en": [p for p in (en or "").split(_SEPARATORS["en"]) if p],
            },
            **dict(zip(BASELINE_RANK_COLUMNS, baseline_ranks, strict=True)),
        }
        for company_id, score, position, zh, en, *baseline_ranks in ranked.select(
            "company_id", "score", "rank", "reasons", "reasons_en", *BASELINE_RANK_COLUMNS
        ).iter_rows()
    ]
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(DiscoveryScore), rows[start : start + _BATCH])
    return run


def list_runs(session: Session) -> list[DiscoveryRun]:
    """Every run, latest first."""
    return list(
        session.scalars(select(DiscoveryRun).order_by(DiscoveryRun.created_at.desc(), DiscoveryRun.id.desc()))
    )
