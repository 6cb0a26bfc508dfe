"""Web benchmark: ``qilin serve`` on a generated registry of N enterprises (default 100,000) in SQLite,
loaded by wrk over loopback. Prints requests/s, p50, p99 and errors for an API mix, list-only and
profile-only runs (as a province admin, and the mix again as a city officer); p50/p99 of the cockpit page
(``/``, 50 requests) and of a few list and profile pages, fetched one after another with a session cookie;
and the time of one unloaded API request of each kind (unfiltered, deep page, each filter, profile).

    .venv/bin/python bench/web_bench.py [--enterprises 100000] [--duration 20] [--keep DIR] [--pages 5]

The database is built with the CLI as a person would: ``qilin demo generate``, ``qilin db upgrade``,
``qilin import``, ``qilin tiers snapshot``, ``qilin users create``. ``--keep DIR`` builds it in DIR and
leaves it there; a later run with the same DIR reuses it. wrk (Debian's package, ``make bench`` installs
it) sends every request to 127.0.0.1 only, for a bounded time. The machine is shared and noisy (2 cores,
with wrk on the same machine as the server): compare runs side by side, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

QILIN = str(Path(sys.executable).parent / "qilin")
AS_OF = "2025-06-30"
SEED = 1
PAGE_SIZE = 20
BUILT = "built.json"
USERS = {
    # username: (role, region, password)
    "bench-admin": ("province_admin", None, "bench-admin-Passw0rd!"),
    "bench-city": ("city_officer", "330100", "bench-city-Passw0rd!"),
}
COCKPIT_REQUESTS = 50

# wrk script: cycles through the paths of a file (one per line) with a bearer token, counts the answers
# by status (wrk itself counts only statuses above 399 as "Non-2xx or 3xx responses") and prints one
# JSON line with the run's figures.
WRK_LUA = r"""
local threads = {}
local paths = {}
local counter = 0
statuses = {}
non2xx = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  -- Each thread starts at its own place in the list.
  counter = (id * 7919) % #paths
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local total, counts = 0, {}
  for _, thread in ipairs(threads) do
    total = total + thread:get("non2xx")
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    parts[#parts + 1] = string.format('"%s": %d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"non2xx": %d, "socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    total, e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
end
"""


@dataclass
class Sample:
    """What the URL lists are drawn from, read off the built database."""

    enterprises: int
    city_enterprises: int
    ids: list[str]
    city_ids: list[str]
    tracks: list[str]
    tiers: list[str]
    fragments: list[str]
    cities: list[str]


def _qilin(args: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    """Run ``qilin ARGS``; return its seconds, or exit with its output when it fails."""
    started = time.perf_counter()
    result = subprocess.run([QILIN, *args], env=env, input=stdin, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(
            f"`qilin {' '.join(args)}` exited with {result.returncode}\n{result.stdout[-3000:]}\n"
            f"{result.stderr[-5000:]}"
        )
    return seconds


def build(folder: Path, enterprises: int, env: dict[str, str]) -> None:
    """Generate, migrate, import, snapshot and add the users, printing the seconds of each step."""
    database = folder / "qilin.sqlite3"
    package = folder / "package"
    for stale in (database, folder / BUILT):
        stale.unlink(missing_ok=True)
    shutil.rmtree(package, ignore_errors=True)
    generate = [
        "demo",
        "generate",
        "--enterprises",
        str(enterprises),
        "--seed",
        str(SEED),
        "--out",
        str(package),
    ]
    steps: list[tuple[str, list[str], str | None]] = [
        ("generate", generate, None),
        ("db upgrade", ["db", "upgrade"], None),
        ("import", ["import", str(package)], None),
        ("tier snapshot", ["tiers", "snapshot", "--as-of", AS_OF], None),
    ]
    for username, (role, region, password) in USERS.items():
        region_args = ["--region", region] if region else []
        create = ["users", "create", username, "--role", role, *region_args, "--password-stdin"]
        steps.append((f"user {username}", create, password))
    for label, args, stdin in steps:
        seconds = _qilin(args, env, stdin)
        print(f"  {label:<20}{seconds:>8.1f} s", flush=True)
    (folder / BUILT).write_text(json.dumps({"enterprises": enterprises, "seed": SEED, "as_of": AS_OF}))


def sample(database: Path, rng: random.Random) -> Sample:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:

        def column(sql: str, *params: object) -> list[str]:
            return [row[0] for row in conn.execute(sql, params)]

        count = conn.execute("SELECT count(*) FROM enterprises").fetchone()[0]
        city_count = conn.execute(
            "SELECT count(*) FROM enterprises WHERE region_code LIKE '3301%'"
        ).fetchone()[0]
        ids = column("SELECT id FROM enterprises ORDER BY random() LIMIT 300")
        city_ids = column(
            "SELECT id FROM enterprises WHERE region_code LIKE '3301%' ORDER BY random() LIMIT 300"
        )
        tracks = column(
            "SELECT track_code FROM enterprise_tracks GROUP BY track_code ORDER BY count(*) DESC LIMIT 8"
        )
        tiers = column(
            "SELECT DISTINCT tier FROM tier_snapshot_entries "
            "WHERE snapshot_id = (SELECT max(id) FROM tier_snapshots)"
        )
        names = column("SELECT name FROM enterprises ORDER BY random() LIMIT 200")
        cities = column(
            "SELECT substr(region_code, 1, 4) || '00' FROM enterprises WHERE region_code LIKE '33%' "
            "GROUP BY 1 ORDER BY count(*) DESC"
        )
    # Two-character fragments of real names: a search that finds some, but not all, enterprises.
    fragments = sorted(
        {name[i : i + 2] for name in names if len(name) >= 3 for i in [rng.randrange(len(name) - 1)]}
    )
    return Sample(count, city_count, ids, city_ids, tracks, tiers, fragments[:40], cities)


def _list(**params: object) -> str:
    return "/api/v1/enterprises?" + urlencode(params)


def list_paths(s: Sample, rng: random.Random, region: str | None = None) -> list[str]:
    """Pages of the enterprise list: unfiltered (near and deep pages) and by region, track, tier and name."""
    last_page = max(1, (s.city_enterprises if region else s.enterprises) // PAGE_SIZE)
    pages = sorted(
        {1, 2, 3, 5, 10, 50, 100, last_page // 2, last_page} | {rng.randint(1, last_page) for _ in range(20)}
    )
    paths = [_list(page=p, page_size=PAGE_SIZE) for p in pages]
    regions = [region] if region else ["330100", *s.cities[:5]]
    for r in dict.fromkeys(regions):
        paths += [_list(region=r, page=p, page_size=PAGE_SIZE) for p in (1, 2, 5)]
    for track in s.tracks:
        paths += [_list(track=track, page=p, page_size=PAGE_SIZE) for p in (1, 3)]
    for tier in s.tiers:
        paths.append(_list(tier=tier, page=1, page_size=PAGE_SIZE))
    paths += [_list(q=fragment, page=1, page_size=PAGE_SIZE) for fragment in s.fragments]
    paths += [
        _list(region="330100", track=s.tracks[0], page=1, page_size=PAGE_SIZE),
        _list(track=s.tracks[0], tier=s.tiers[0], page=1, page_size=PAGE_SIZE),
        _list(region="330100", q=s.fragments[0], page=1, page_size=PAGE_SIZE),
    ]
    if region:  # a city officer's filters stay inside the city
        paths = [p for p in paths if "region=" not in p or f"region={region}" in p]
    rng.shuffle(paths)
    return paths


def profile_paths(ids: list[str]) -> list[str]:
    return [f"/api/v1/enterprises/{quote(i, safe='')}" for i in ids]


def mix(lists: list[str], profiles: list[str], rng: random.Random) -> list[str]:
    """About half list pages and half profiles."""
    paths = lists + rng.sample(profiles, min(len(profiles), len(lists)))
    rng.shuffle(paths)
    return paths


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def has_workers_option() -> bool:
    out = subprocess.run(
        [QILIN, "serve", "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    return "--workers" in out.stdout


def start_server(folder: Path, env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [QILIN, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        if has_workers_option():
            command += ["--workers", str(workers)]
        else:
            print("  qilin serve has no --workers option: one worker")
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=folder, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            sys.exit(f"qilin serve exited with {process.returncode}:\n{_log_tail(folder)}")
        try:
            if httpx.get(f"{url}/login", timeout=5).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop(process)
            sys.exit(f"qilin serve did not answer GET /login within 120 s:\n{_log_tail(folder)}")
        time.sleep(0.3)


def _log_tail(folder: Path) -> str:
    return (folder / "server.log").read_text(encoding="utf-8", errors="replace")[-5000:]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def token(url: str, username: str) -> str:
    response = httpx.post(
        f"{url}/api/v1/auth/token", data={"username": username, "password": USERS[username][2]}, timeout=30
    )
    if response.status_code != 200:
        sys.exit(f"POST /api/v1/auth/token as {username}: {response.status_code} {response.text[:500]}")
    access_token: str = response.json()["access_token"]
    return access_token


def _kind(path: str) -> str:
    """A path's kind: 'profile', or the list's filters ('page' alone, 'deep page' past page 100)."""
    query = path.partition("?")[2]
    if not query:
        return "profile"
    params = dict(re.findall(r"(\w+)=([^&]*)", query))
    filters = sorted(k for k in params if k not in ("page", "page_size"))
    if filters:
        return "list " + "+".join(filters)
    return "list deep page" if int(params.get("page", "1")) > 100 else "list page"


def check_paths(url: str, bearer: str, paths: list[str], label: str) -> None:
    """Ask for one path of each kind before the load, unloaded, and print its time: a wrong contract shows
    here rather than as a flood of errors, and a slow kind of query stands out."""
    seen: set[str] = set()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {bearer}"}, timeout=120) as client:
        for path in paths:
            kind = _kind(path)
            if kind in seen:
                continue
            seen.add(kind)
            started = time.perf_counter()
            response = client.get(path)
            ms = (time.perf_counter() - started) * 1000
            note = "" if response.status_code == 200 else f"  {response.text[:200]}"
            print(f"  {label:<14}{kind:<26}{response.status_code:>5}{ms:>9.0f}  {path}{note}", flush=True)


def run_wrk(
    url: str, bearer: str, paths: list[str], folder: Path, name: str, args: argparse.Namespace
) -> dict[str, float]:
    script, paths_file = folder / "bench.lua", folder / f"paths-{name}.txt"
    script.write_text(WRK_LUA)
    paths_file.write_text("\n".join(paths) + "\n")
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        "--",
        str(paths_file),
        bearer,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 120)
    (folder / f"wrk-{name}.txt").write_text(result.stdout + result.stderr)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("WRK-JSON ")), None)
    if result.returncode != 0 or line is None:
        sys.exit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    figures: dict[str, float] = json.loads(line.removeprefix("WRK-JSON "))
    return figures


def logged_in(url: str, username: str) -> httpx.Client:
    """A client with a session cookie: logged in through the form, with its hidden CSRF token."""
    client = httpx.Client(base_url=url, timeout=300, follow_redirects=True)
    form = client.get("/login")
    form.raise_for_status()
    hidden = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.text))
    if "csrf_token" not in hidden:
        sys.exit("the login form has no hidden csrf_token input")
    page = client.post("/login", data={**hidden, "username": username, "password": USERS[username][2]})
    if page.status_code != 200 or page.url.path != "/":
        sys.exit(f"login as {username} ended at {page.url} with {page.status_code}")
    return client


def timed_gets(client: httpx.Client, paths: list[str]) -> list[float]:
    """GET each path one after another; the milliseconds of each."""
    times = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"GET {path}: {response.status_code} {response.text[:300]}")
    return times


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--passes", type=int, default=2, help="times each run is repeated (1st: cold caches)")
    parser.add_argument("--keep", type=Path, help="build the database in DIR and keep it; reuse it if built")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", type=int, default=5, help="list and profile pages timed per user")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `make bench` installs it (apt-get install -y --no-install-recommends wrk)")

    rng = random.Random(SEED)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        folder = args.keep.resolve()
    else:
        folder = Path(tempfile.mkdtemp(prefix="qilin-web-bench-"))
    database = folder / "qilin.sqlite3"
    env = {**os.environ, "QILIN_DATABASE_URL": f"sqlite:///{database}", "QILIN_ENV": "test"}
    process = None
    try:
        built = json.loads((folder / BUILT).read_text()) if (folder / BUILT).exists() else None
        if built and built["enterprises"] == args.enterprises and database.exists():
            print(f"reusing the database in {folder} ({args.enterprises:,} enterprises)")
        else:
            print(
                f"building a database of {args.enterprises:,} generated enterprises in {folder}", flush=True
            )
            build(folder, args.enterprises, env)
        s = sample(database, rng)
        print(
            f"{s.enterprises:,} enterprises; tracks {s.tracks[:3]}…, tiers {s.tiers}, "
            f"{len(s.fragments)} name fragments"
        )

        process, url = start_server(folder, env, args.workers)
        print(f"qilin serve at {url} (log: {folder / 'server.log'})", flush=True)

        print(f"\npages with a session cookie, one request after another (cockpit: {COCKPIT_REQUESTS}):")
        print(f"  {'user':<14}{'page':<26}{'requests':>9}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
        for username in USERS:
            ids = s.ids if username == "bench-admin" else s.city_ids
            pages = {
                "cockpit /": ["/"] * COCKPIT_REQUESTS,
                "list /enterprises": [f"/enterprises?page={p}" for p in range(1, args.pages + 1)],
                "profile /enterprises/{id}": [f"/enterprises/{quote(i, safe='')}" for i in ids[: args.pages]],
            }
            with closing(logged_in(url, username)) as client:
                client.get("/").raise_for_status()  # warm up
                for label, paths in pages.items():
                    if not paths:
                        continue
                    times = timed_gets(client, paths)
                    p50, p99, top = percentile(times, 50), percentile(times, 99), max(times)
                    print(f"  {username:<14}{label:<26}{len(times):>9}{p50:>10.1f}{p99:>10.1f}{top:>10.1f}")

        admin, city = token(url, "bench-admin"), token(url, "bench-city")
        lists, profiles = list_paths(s, rng), profile_paths(s.ids)
        city_lists, city_profiles = list_paths(s, rng, region="330100"), profile_paths(s.city_ids)
        runs = [
            ("mix", "admin: API mix (list pages + profiles)", admin, mix(lists, profiles, rng)),
            ("list", "admin: list pages only", admin, lists),
            ("profile", "admin: profiles only", admin, profiles),
            ("city-mix", "city officer 330100: API mix", city, mix(city_lists, city_profiles, rng)),
        ]
        print("\none request of each kind, unloaded:")
        print(f"  {'user':<14}{'kind':<26}{'status':>5}{'ms':>9}  path")
        check_paths(url, admin, mix(lists, profiles, rng), "admin")
        check_paths(url, city, mix(city_lists, city_profiles, rng), "city officer")

        print(
            f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
            f"server workers: {args.workers if has_workers_option() else 1}"
        )
        print(f"  {'run':<42}{'paths':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'sock err':>9}")
        # Pass 1 starts with cold caches: every filter's total is counted once per worker process (list
        # totals are then reused for COUNT_CACHE_SECONDS); later passes show the steady state.
        for number in range(1, args.passes + 1):
            print(f"  pass {number}{' (cold caches)' if number == 1 else ''}")
            for name, label, bearer, paths in runs:
                r = run_wrk(url, bearer, paths, folder, name, args)
                rps = r["requests"] / (r["duration_us"] / 1e6)
                print(
                    f"  {label:<42}{len(paths):>6}{rps:>9.1f}{r['p50_us'] / 1000:>9.1f}"
                    f"{r['p99_us'] / 1000:>9.1f}{r['non2xx']:>9}{r['socket_errors']:>9}",
                    flush=True,
                )
                if r["non2xx"]:
                    print(f"    statuses: {r['statuses']}")
        if process.poll() is not None:
            print(f"qilin serve exited with {process.returncode} during the runs:\n{_log_tail(folder)}")
    finally:
        if process is not None:
            stop(process)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
