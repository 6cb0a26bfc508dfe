"""Region scope (数据范围): the one central "deny unless allowed" filter.

Every query that reads enterprises, their records or leads adds :func:`enterprise_filter` or
:func:`lead_filter` for the requesting :class:`Principal`. A record outside the scope is indistinguishable
from a missing one (the API answers the same 404).

- province roles and departments: the whole province (and records with no region);
- a city officer: enterprises whose region code lies in its city (3301xx for 杭州市 330100);
- a county officer: its county's code exactly;
- an enterprise user: its own record only;
- a recommender: no enterprises; leads it recommended itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select, true

from qilin.auth.roles import ROLE_PERMISSIONS, Permission, Role
from qilin.db import code_prefix
from qilin.discovery.leads_models import Lead, Recommender
from qilin.registry.models import Enterprise

_PROVINCE_WIDE = frozenset({Role.province_admin, Role.province_viewer, Role.department})


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request, with its role resolved once."""

    user_id: int
    username: str
    role: Role
    region_code: str | None = None
    organization: str | None = None
    enterprise_id: str | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def province_wide(self) -> bool:
        return self.role in _PROVINCE_WIDE

    def region_prefix(self) -> str | None:
        """The region-code prefix of a regional role (4 digits for a city, 6 for a county)."""
        if self.role is Role.city_officer and self.region_code:
            return self.region_code[:4]
        if self.role is Role.county_officer and self.region_code:
            return self.region_code
        return None

    def covers_region(self, region_code: str | None) -> bool:
        """Whether a record in ``region_code`` would be inside this principal's regional scope."""
        if self.province_wide:
            return True
        prefix = self.region_prefix()
        return prefix is not None and region_code is not None and region_code.startswith(prefix)


def enterprise_filter(principal: Principal) -> ColumnElement[bool]:
    """The condition on :class:`Enterprise` rows this principal may see."""
    if not principal.can(Permission.read_registry):
        return false()
    if principal.province_wide:
        return true()
    if principal.role is Role.enterprise:
        return Enterprise.id == principal.enterprise_id if principal.enterprise_id else false()
    prefix = principal.region_prefix()
    if prefix is None:
        return false()
    if len(prefix) == 6:
        return Enterprise.region_code == prefix
    return code_prefix(Enterprise.region_code, prefix)


def lead_filter(principal: Principal) -> ColumnElement[bool]:
    """The condition on :class:`Lead` rows this principal may see."""
    if not principal.can(Permission.read_leads):
        return false()
    if principal.province_wide:
        return true()
    if principal.role is Role.recommender:
        if not principal.organization:
            return false()
        own = select(Recommender.id).where(Recommender.name == principal.organization).scalar_subquery()
        return Lead.recommender_id.in_(own)
    prefix = principal.region_prefix()
    if prefix is None:
        return false()
    if len(prefix) == 6:
        return Lead.region_code == prefix
    return code_prefix(Lead.region_code, prefix)
