"""Failed logins from one source address over many accounts (password spraying) are refused too."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from qilin import config as qilin_config
from qilin.auth.roles import Role
from qilin.config import Settings
from webkit import PASSWORD, TestClient, api_token, client, create_users, page_login, web_app, web_settings

__all__ = ["client", "web_app", "web_settings"]  # fixtures


def test_an_address_that_fails_on_many_accounts_is_refused(
    client: TestClient, session: Session, web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_users(session, [Role.province_viewer])
    monkeypatch.setenv("QILIN_LOGIN_MAX_FAILURES_PER_ADDRESS", "3")
    qilin_config.get_settings.cache_clear()
    for name in ("nobody-1", "nobody-2", "nobody-3"):  # no single account reaches its own limit
        assert api_token(client, name, "wrong-password").status_code == 401
    refused = api_token(client, "province_viewer", PASSWORD)  # even the right password
    assert refused.status_code == 429 and "此地址" in refused.json()["detail"]
    assert page_login(client, "province_viewer").status_code == 401  # the login page says so, in Chinese
    # Another address is not affected.
    other = TestClient(client.app, client=("10.0.0.9", 50000))
    assert api_token(other, "province_viewer", PASSWORD).status_code == 200
