"""``/api/v1/auth``: bearer tokens for other systems, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from qilin.auth import service as users
from qilin.auth.errors import AccountLocked, InvalidCredentials
from qilin.auth.roles import ROLE_LABELS
from qilin.auth.scope import Principal
from qilin.config import get_settings
from qilin.web.security import client_address, current_principal, db_session, public

router = APIRouter(prefix="/auth", tags=["认证 auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class Me(BaseModel):
    username: str
    role: str
    role_label: str
    region_code: str | None
    organization: str | None
    enterprise_id: str | None
    permissions: list[str]


@router.post("/token", response_model=Token, summary="获取访问令牌 / get a bearer token")
@public
def token(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    session: Annotated[Session, Depends(db_session)],
) -> Token:
    settings = get_settings()
    try:
        user = users.authenticate(
            session,
            username=username,
            password=password,
            settings=settings,
            actor_address=client_address(request),
            channel="api",
        )
    except AccountLocked as exc:
        raise HTTPException(429, str(exc)) from None
    except InvalidCredentials as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    return Token(access_token=users.issue_token(user, settings=settings))


@router.get("/me", response_model=Me, summary="当前用户 / the current user")
def me(principal: Annotated[Principal, Depends(current_principal)]) -> Me:
    return Me(
        username=principal.username,
        role=principal.role.value,
        role_label=ROLE_LABELS[principal.role],
        region_code=principal.region_code,
        organization=principal.organization,
        enterprise_id=principal.enterprise_id,
        permissions=sorted(p.value for p in principal.permissions),
    )
