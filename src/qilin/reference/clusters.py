"""浙江省 “415X” 先进制造业集群 (415X advanced manufacturing clusters) with the evidence status of each name:
some names are confirmed in public reporting, some are unverified and are shown as such."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from qilin.reference._files import read_csv


@dataclass(frozen=True, slots=True)
class Cluster:
    code: str
    level: str
    name: str
    parent_code: str | None
    status: str
    evidence: str

    @property
    def verified(self) -> bool:
        return not self.status.startswith("unverified")


@cache
def all_clusters() -> dict[str, Cluster]:
    return {
        r["code"]: Cluster(
            r["code"], r["level"], r["name"], r["parent_code"] or None, r["status"], r["evidence"]
        )
        for r in read_csv("zj_415x_clusters.csv")
    }
