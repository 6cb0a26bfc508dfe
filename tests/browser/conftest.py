"""Browser tests: a real ``qilin serve`` on a small demo database, driven by Debian's headless Chromium
through Playwright. Nothing is downloaded at run time; a missing Chromium is an error, never a skip
(``make system-deps`` installs it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, sync_playwright

from .browser_support import AS_OF, CHROMIUM, CHROMIUM_ARGS, USERS, LiveServer

SERVER_START_TIMEOUT = 60.0
COMMAND_TIMEOUT = 600.0
_failed = pytest.StashKey[bool]()


def _qilin() -> str:
    """The ``qilin`` script of the interpreter running the tests (``.venv/bin/qilin``)."""
    beside = Path(sys.executable).parent / "qilin"
    found = str(beside) if beside.exists() else shutil.which("qilin")
    if found is None:
        pytest.fail("the qilin command is not installed: run `make setup`", pytrace=False)
    return found


def _run(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> None:
    """Run ``qilin ARGS``; fail the session's set-up with its output when it fails."""
    command = [_qilin(), *args]
    result = subprocess.run(
        command, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    if result.returncode != 0:
        pytest.fail(
            f"`qilin {' '.join(args)}` exited with {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-8000:]}",
            pytrace=False,
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _status(url: str) -> int | None:
    """The HTTP status of GET ``url`` without following redirects; None when nothing answers."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=5) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``qilin serve`` on a migrated demo database (300 enterprises, a tier snapshot, a discovery run) with
    the users of ``browser_support.USERS``; stopped at the end of the session."""
    folder = tmp_path_factory.mktemp("live_server")
    database_url = f"sqlite:///{folder / 'qilin.sqlite3'}"
    env = {**os.environ, "QILIN_DATABASE_URL": database_url, "QILIN_ENV": "test"}
    _run(["db", "upgrade"], env, folder)
    _run(["demo", "--enterprises", "300", "--seed", "1"], env, folder)
    _run(["tiers", "snapshot", "--as-of", AS_OF], env, folder)
    _run(["discover", "run", "--as-of", AS_OF], env, folder)
    for username, (role, region, password) in USERS.items():
        region_args = ["--region", region] if region else []
        create = ["users", "create", username, "--role", role, *region_args, "--password-stdin"]
        _run(create, env, folder, stdin=password)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    stdout_log, stderr_log = folder / "server.stdout.log", folder / "server.stderr.log"
    with stdout_log.open("wb") as out, stderr_log.open("wb") as err:
        process = subprocess.Popen(
            [_qilin(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    server = LiveServer(
        url=url,
        users={name: password for name, (_, _, password) in USERS.items()},
        database_url=database_url,
        stdout_log=stdout_log,
        stderr_log=stderr_log,
        process=process,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        status = None
        while status != 200:
            if process.poll() is not None:
                pytest.fail(
                    f"qilin serve exited with {process.returncode} before answering\n{server.log_tail()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"GET {url}/login did not answer 200 within {SERVER_START_TIMEOUT:.0f} s "
                    f"(last status: {status})\n{server.log_tail()}",
                    pytrace=False,
                )
            time.sleep(0.2)
            status = _status(f"{url}/login")
        yield server
        if process.poll() is not None:
            pytest.fail(
                f"qilin serve died during the tests (exit {process.returncode})\n{server.log_tail()}",
                pytrace=False,
            )
    finally:
        _stop(process)


@pytest.fixture(autouse=True)
def _server_alive(live_server: LiveServer) -> Iterator[None]:
    """Fail loudly, with the server's log, when the server died before or during a test."""

    def check(when: str) -> None:
        if live_server.process.poll() is not None:
            pytest.fail(
                f"qilin serve is not running {when} the test (exit {live_server.process.returncode})\n"
                f"{live_server.log_tail()}",
                pytrace=False,
            )

    check("before")
    yield
    check("after")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium, launched once for the session."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (Debian's chromium)", pytrace=False)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console messages of type error and uncaught page errors of the test's ``page``."""
    return []


@pytest.fixture
def page(
    browser: Browser, console_errors: list[str], request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Page]:
    """A new page in a fresh context (1280x800, zh-CN). ``page.console_errors`` is ``console_errors``.
    A failed test leaves a screenshot ``failure.png`` in its tmp_path and names it in the report."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        # Chromium asks for /favicon.ico by itself, at a moment of its choosing: not the page's error.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            where = message.location
            console_errors.append(f"console: {message.text} ({where.get('url')}:{where.get('lineNumber')})")

    def on_page_error(error: Error) -> None:
        console_errors.append(f"pageerror: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.console_errors = console_errors  # type: ignore[attr-defined]
    yield page
    if request.node.stash.get(_failed, False):
        shot = tmp_path / "failure.png"
        try:
            page.screenshot(path=shot, full_page=True)
            sys.stderr.write(f"\nscreenshot of the failed page {page.url}: {shot}\n")
        except Error as exc:
            sys.stderr.write(f"\nno screenshot of the failed page: {exc}\n")
        if console_errors:
            sys.stderr.write("console errors:\n  " + "\n  ".join(console_errors) + "\n")
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when == "call" and report.failed:
        item.stash[_failed] = True
    return report
