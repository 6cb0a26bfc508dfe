"""Roles (角色) and what each may do. One table, read by every route's permission check.

A role's *scope* says which records it sees (:mod:`qilin.auth.scope`); its *permissions* say what it may do
with them. ``financial`` reveals funding amounts and valuations; without it they are hidden.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    province_admin = "province_admin"  # 省经信厅管理员
    province_viewer = "province_viewer"  # 省级只读
    department = "department"  # 省级协同部门
    city_officer = "city_officer"  # 市级
    county_officer = "county_officer"  # 县（市、区）级
    recommender = "recommender"  # 第三方推荐机构
    enterprise = "enterprise"  # 企业


class Permission(StrEnum):
    read_registry = "read_registry"  # enterprises, tiers, discovery inside the scope
    financial = "financial"  # funding amounts and valuations
    write_registry = "write_registry"  # change enterprise records inside the scope
    read_leads = "read_leads"  # leads inside the scope (a recommender: its own)
    process_leads = "process_leads"  # verify, accept or reject leads inside the scope (线索核实)
    submit_leads = "submit_leads"  # upload a lead file (a recommender: in its own name only)
    read_audit = "read_audit"  # browse the audit log
    manage_users = "manage_users"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.province_admin: frozenset(Permission),
    Role.province_viewer: frozenset({P.read_registry, P.financial, P.read_leads}),
    # Co-responsible departments handle services: the whole province, without investment figures.
    Role.department: frozenset({P.read_registry, P.read_leads}),
    Role.city_officer: frozenset(
        {P.read_registry, P.financial, P.write_registry, P.read_leads, P.process_leads}
    ),
    Role.county_officer: frozenset(
        {P.read_registry, P.financial, P.write_registry, P.read_leads, P.process_leads}
    ),
    Role.recommender: frozenset({P.read_leads, P.submit_leads}),
    Role.enterprise: frozenset({P.read_registry, P.financial, P.write_registry}),
}

# Roles whose scope is a region, and the kind of region they need.
REGIONAL_ROLES: dict[Role, str] = {Role.city_officer: "city", Role.county_officer: "county"}

ROLE_LABELS: dict[Role, str] = {
    Role.province_admin: "省级管理员",
    Role.province_viewer: "省级查看",
    Role.department: "协同部门",
    Role.city_officer: "市级用户",
    Role.county_officer: "县级用户",
    Role.recommender: "推荐机构",
    Role.enterprise: "企业用户",
}
