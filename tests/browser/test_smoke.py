"""The browser harness itself: the server answers and Chromium renders the login page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .browser_support import LiveServer


def test_login_page_renders(page: Page, live_server: LiveServer, console_errors: list[str]) -> None:
    response = page.goto(f"{live_server.url}/login")
    assert response is not None and response.status == 200
    expect(page.locator("input[name=username]")).to_be_visible()
    expect(page.locator("input[name=password]")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert console_errors == []
