"""Platform users (用户). Passwords are stored as Argon2 hashes only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from qilin.auth.roles import Role
from qilin.db import Base, utcnow
from qilin.tiers.selection_models import UTCDateTime, one_of


class User(Base):
    """A person or system account with one role and, for regional roles, one region (GB/T 2260 code)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", [r.value for r in Role]), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(String(6))
    # A recommender's institution (its leads are those recommended under this name).
    organization: Mapped[str | None] = mapped_column(String(200))
    # An enterprise account's own record.
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Raising it revokes every token issued before.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
