"""Users (用户): create, authenticate with lock-out, issue and read API tokens."""

from __future__ import annotations

import datetime as dt
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Sequence
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from qilin.audit.service import Actor, record
from qilin.auth.errors import AccountLocked, AddressThrottled, InvalidCredentials, UserError
from qilin.auth.models import User
from qilin.auth.passwords import DUMMY_HASH, MIN_LENGTH, hash_password, verify_password
from qilin.auth.roles import REGIONAL_ROLES, Role
from qilin.common.messages import t
from qilin.common.text import control_character, is_blank
from qilin.config import Settings
from qilin.db import utcnow
from qilin.reference import regions

_TOKEN_SALT = "qilin-api-token"


def get(session: Session, *, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_by_username(session: Session, *, username: str) -> User | None:
    if "\x00" in username:  # no user has one, and PostgreSQL refuses to compare text holding it
        return None
    return session.scalar(select(User).where(User.username == username))


def list_(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


ORGANIZATION_MAX = 200  # the column's length

# Characters that show nothing but make a different name: format characters (zero-width space, joiners,
# direction marks, the byte-order mark), private-use and unassigned code points, and the fillers and
# selectors Unicode marks as default-ignorable though they are letters or marks.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp", "Zs"})
_INVISIBLE_CHARACTERS = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164, 0xFFA0}
    | set(range(0xFE00, 0xFE10))
    | set(range(0xE0100, 0xE01F0))
)


def _user_error(key: str, **fields: Any) -> UserError:
    return UserError(t(key, lang="zh", **fields), t(key, lang="en", **fields))


def _invisible_character(text: str) -> str | None:
    """The first character of ``text`` that shows nothing, as ``U+XXXX``; None when there is none."""
    for c in text:
        if unicodedata.category(c) in _INVISIBLE_CATEGORIES or ord(c) in _INVISIBLE_CHARACTERS:
            return f"U+{ord(c):04X}"
    return None


def name_key(username: str) -> str:
    """The form two user names share when they look alike: NFKC-normalised and case-folded (ADMIN,
    ａｄｍｉｎ and admin are one name), with invisible characters dropped.

    >>> name_key("ＡＤＭＩＮ") == name_key("admin")
    True
    """
    visible = "".join(c for c in username if _invisible_character(c) is None)
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", visible).casefold())


def _check_username(session: Session, username: str) -> None:
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise UserError("用户名不能为空、含空格或超过64个字符", "user name: 1–64 characters, no spaces")
    char = control_character(username)
    if char is not None:
        raise _user_error("users.name_control", char=char)
    char = _invisible_character(username)
    if char is not None:
        raise _user_error("users.name_invisible", char=char)
    if get_by_username(session, username=username) is not None:
        raise UserError(f"用户名 {username} 已存在", f"user {username} already exists")
    key = name_key(username)
    # Users are few (officials and institutions): comparing with each is cheaper than keeping a column.
    for existing in session.scalars(select(User.username).order_by(User.username)):
        if name_key(existing) == key:
            raise _user_error("users.name_resembles", name=username, existing=existing)


def _check_organization(organization: str | None) -> None:
    if organization is None:
        return
    if (
        is_blank(organization)
        or control_character(organization) is not None
        or len(organization) > ORGANIZATION_MAX
    ):
        raise _user_error("users.organization_invalid", max=ORGANIZATION_MAX)


def _check_scope(role: Role, region_code: str | None) -> None:
    kind = REGIONAL_ROLES.get(role)
    if kind is None:
        if region_code:
            raise UserError(f"角色 {role} 不设区域", f"role {role} takes no region")
        return
    if not region_code:
        raise UserError(f"角色 {role} 必须指定区域代码", f"role {role} needs --region")
    region = regions.get(region_code)
    if region is None or not regions.is_zhejiang(region_code):
        raise UserError(
            f"区域代码 {region_code} 不是浙江省的行政区划", f"{region_code} is not a Zhejiang region code"
        )
    level = "prefecture" if kind == "city" else "county"
    if region.level != level:
        raise UserError(
            f"区域代码 {region_code}（{region.name}）不是{'地级市' if kind == 'city' else '县（市、区）'}",
            f"{region_code} ({region.name}) is not a {'city' if kind == 'city' else 'county'}",
        )


def create(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    actor: Actor,
    region_code: str | None = None,
    organization: str | None = None,
    enterprise_id: str | None = None,
) -> User:
    """A new user; the password is hashed (Argon2id) and never stored or logged in clear."""
    username = username.strip()
    _check_username(session, username)
    _check_organization(organization)
    try:
        role_ = Role(role)
    except ValueError:
        raise UserError(
            f"未知角色 {role}（可选：{', '.join(r.value for r in Role)}）",
            f"unknown role {role} (one of {', '.join(r.value for r in Role)})",
        ) from None
    _check_scope(role_, region_code)
    if role_ is Role.recommender and not organization:
        raise UserError("推荐机构用户必须指定机构名称", "a recommender needs --organization")
    if role_ is Role.enterprise:
        from qilin.registry.models import Enterprise

        if not enterprise_id or session.get(Enterprise, enterprise_id) is None:
            raise UserError(
                "企业用户必须指定存在的企业编号", "an enterprise user needs an existing --enterprise"
            )
    if len(password) < MIN_LENGTH:
        raise UserError(f"密码至少 {MIN_LENGTH} 个字符", f"passwords have at least {MIN_LENGTH} characters")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role_.value,
        region_code=region_code,
        organization=organization,
        enterprise_id=enterprise_id if role_ is Role.enterprise else None,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user.create",
        subject_type="user",
        subject_id=user.id,
        new=public_fields(user),
    )
    return user


def public_fields(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "region_code": user.region_code,
        "organization": user.organization,
        "enterprise_id": user.enterprise_id,
        "active": user.active,
    }


# Failed logins per source address, in this process: trying many accounts from one address (password
# spraying) is refused too, though no single account reaches its own limit.
_address_failures: dict[str, deque[float]] = {}
_address_guard = threading.Lock()


def _address_failures_recent(address: str, settings: Settings) -> deque[float]:
    horizon = time.monotonic() - settings.login_lock_seconds
    failures = _address_failures.setdefault(address, deque())
    while failures and failures[0] < horizon:
        failures.popleft()
    return failures


def _check_address(address: str | None, settings: Settings) -> None:
    if not address:
        return
    with _address_guard:
        failures = _address_failures_recent(address, settings)
        if len(failures) >= settings.login_max_failures_per_address:
            wait = failures[0] + settings.login_lock_seconds - time.monotonic()
            raise AddressThrottled(max(1, int(wait // 60) + 1))


def _note_address_failure(address: str | None, settings: Settings) -> None:
    if not address:
        return
    with _address_guard:
        if len(_address_failures) > 100_000:
            _address_failures.clear()
        _address_failures_recent(address, settings).append(time.monotonic())


def forget_address_failures() -> None:
    """Drop the per-address counts (a new server process starts empty; tests)."""
    with _address_guard:
        _address_failures.clear()


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    settings: Settings,
    actor_address: str | None,
    channel: str = "web",
) -> User:
    """The user whose password matches, or an error. Each failure in a row waits a little longer
    (``login_failure_delay_seconds`` × failures); after ``login_max_failures`` the account locks for
    ``login_lock_seconds``. Failures and successes are audited; the caller commits."""
    _check_address(actor_address, settings)
    user = get_by_username(session, username=username.strip())
    now = utcnow()
    actor = Actor(name=username.strip()[:100] or "?", channel=channel, address=actor_address)
    if user is None or not user.active:
        _note_address_failure(actor_address, settings)
        verify_password(DUMMY_HASH, password)
        time.sleep(settings.login_failure_delay_seconds)
        raise InvalidCredentials()
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise AccountLocked(minutes)
    if not verify_password(user.password_hash, password):
        _note_address_failure(actor_address, settings)
        user.failed_logins += 1
        locked = user.failed_logins >= settings.login_max_failures
        if locked:
            user.locked_until = now + dt.timedelta(seconds=settings.login_lock_seconds)
            user.failed_logins = 0
        record(
            session,
            actor=actor,
            action="auth.lock" if locked else "auth.failure",
            subject_type="user",
            subject_id=user.id,
        )
        session.commit()
        time.sleep(settings.login_failure_delay_seconds * min(user.failed_logins or 1, 10))
        if locked:
            raise AccountLocked(max(1, settings.login_lock_seconds // 60))
        raise InvalidCredentials()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(session, actor=actor, action="auth.login", subject_type="user", subject_id=user.id)
    return user


def issue_token(user: User, *, settings: Settings) -> str:
    serializer = URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=_TOKEN_SALT)
    return serializer.dumps({"u": user.id, "v": user.token_version})


def read_token(token: str, *, settings: Settings) -> tuple[int, int] | None:
    """(user id, token version) from a valid, unexpired token; None otherwise."""
    serializer = URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=_TOKEN_SALT)
    try:
        data = serializer.loads(token, max_age=settings.token_max_age_seconds)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("v"), int):
        return None
    return data["u"], data["v"]
