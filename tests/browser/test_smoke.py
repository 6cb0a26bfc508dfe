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


def test_api_docs_render_from_the_platform_itself(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    """Swagger UI comes from /static/vendor (npm's swagger-ui-dist), never a CDN: an air-gapped server has
    none, and the content security policy would refuse one (and an inline script) anyway."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert response is not None and response.status == 200
    expect(page.locator("#swagger-ui .opblock-summary-path").first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/v1/enterprises", exact=True).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert console_errors == []
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requested), requested
