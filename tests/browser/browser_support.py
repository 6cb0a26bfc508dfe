"""What the browser tests share besides fixtures: the live server's description and the login steps.

Import it as ``from .browser_support import login``.
"""

from __future__ import annotations

import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

# Debian's Chromium (``make system-deps``); nothing is downloaded when the tests run.
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium reaches out at start-up, which the closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Users of the live server: username -> (role, region or None, password).
USERS: dict[str, tuple[str, str | None, str]] = {
    "admin": ("province_admin", None, "Qilin-admin-Passw0rd!"),
    "county": ("county_officer", "330106", "Qilin-county-Passw0rd!"),
}
# The as-of date of the demo's tier snapshot and discovery run.
AS_OF = "2025-06-30"


@dataclass
class LiveServer:
    """A running ``qilin serve`` on a demo database of its own."""

    url: str
    users: dict[str, str]
    database_url: str
    stdout_log: Path
    stderr_log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of a read-only query on the server's SQLite database (to check what the pages show)."""
        path = self.database_url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return conn.execute(sql, params).fetchall()

    def log_tail(self, chars: int = 8000) -> str:
        """The end of the server's stderr (uvicorn logs there) and stdout, for failure messages."""
        parts = []
        for path in (self.stderr_log, self.stdout_log):
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            parts.append(f"--- {path.name} (last {chars} characters) ---\n{text[-chars:]}")
        return "\n".join(parts)


def login(page: Page, live_server: LiveServer, username: str) -> None:
    """Log ``username`` in through the login form and wait for the cockpit (``/``)."""
    page.goto(f"{live_server.url}/login")
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(live_server.users[username])
    form.locator("button:not([type=button]):not([type=reset]), input[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("input[name=password]")).to_have_count(0)
