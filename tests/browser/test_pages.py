"""The pages as a person uses them, in Chromium: login, the cockpit's map, the enterprise list and its
filters, an enterprise's profile with its tier trace, and the county officer's narrower view."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from playwright.sync_api import Locator, Page, expect

from qilin.db import unpack_json

from .browser_support import AS_OF, USERS, LiveServer, login

ROWS = "table#enterprise-list tbody tr"
# Non-transparent pixels over every canvas inside an element: a rendered chart draws thousands.
PAINTED_PIXELS = """(el) => {
  let painted = 0;
  for (const canvas of el.querySelectorAll('canvas')) {
    const ctx = canvas.getContext('2d');
    if (!ctx || !canvas.width || !canvas.height) continue;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
  }
  return painted;
}"""


def _enterprise_ids(page: Page) -> list[str]:
    """The enterprise ids linked from the list's rows, in order."""
    hrefs = page.locator(f"{ROWS} a.enterprise-link").evaluate_all("links => links.map(a => a.href)")
    ids = []
    for href in hrefs:
        match = re.fullmatch(r"/enterprises/([^/?#]+)", urlsplit(href).path)
        assert match, f"not a profile link: {href}"
        ids.append(unquote(match.group(1)))
    return ids


def _label(option: Locator) -> str:
    """An option's label without a trailing count such as '杭州市 (120)'."""
    return re.split(r"\s*[(（]", option.inner_text().strip())[0]


def _apply_filters(page: Page) -> None:
    """Press the filter form's button and wait for the filtered list (a GET form: the filters land in the
    URL)."""
    before = page.url
    page.locator("form#filters button[type=submit]").click()
    page.wait_for_url(lambda url: url != before)
    page.wait_for_load_state("networkidle")


def test_pages_require_login(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/")
    assert urlsplit(page.url).path == "/login"
    expect(page.locator("input[name=username]")).to_be_visible()


def test_wrong_password_stays_on_login(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "not-the-password")
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/login"
    expect(page.locator("[role=alert]")).to_be_visible()
    # The refused login answers 401, which Chromium reports as a failed resource; nothing else may fail.
    assert [e for e in console_errors if "status of 401" not in e] == []


def test_cockpit_map_renders(page: Page, live_server: LiveServer, console_errors: list[str]) -> None:
    login(page, live_server, "admin")
    assert "驾驶舱" in page.title() + page.locator("body").inner_text()
    chart = page.locator("#zj-map")
    expect(chart).to_be_visible()
    expect(chart.locator("canvas").first).to_be_attached()
    box = chart.bounding_box()
    assert box is not None and box["width"] >= 300 and box["height"] >= 300, box
    # ECharts draws asynchronously: wait until the map (Zhejiang's regions) has painted the canvas.
    page.wait_for_function(f"() => ({PAINTED_PIXELS})(document.querySelector('#zj-map')) > 5000")
    assert page.evaluate(
        "() => !!window.echarts && !!echarts.getInstanceByDom(document.querySelector('#zj-map'))"
    )
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_a_city_cockpit_maps_its_counties_and_a_click_lists_one(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/?city=330100")
    expect(page.locator("#zj-map").locator("..")).to_contain_text("杭州市各区县梯队企业分布")
    page.wait_for_function(f"() => ({PAINTED_PIXELS})(document.querySelector('#zj-map')) > 5000")
    # 淳安县, the city's largest county: its middle, placed by the chart itself, is clicked
    point = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('#zj-map'))"
        ".convertToPixel({seriesIndex: 0}, [119.05, 29.61])"
    )
    box = page.locator("#zj-map").bounding_box()
    assert box is not None and point, point
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    page.wait_for_url(re.compile(r"/enterprises\?county=330127$"))
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_enterprise_list_and_city_filter(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/enterprises")
    expect(page.locator(ROWS).first).to_be_visible()
    assert page.locator(ROWS).count() > 1
    city = page.locator("form#filters select[name=city] option:not([value=''])").first
    value, label = city.get_attribute("value"), _label(city)
    assert value and label
    page.select_option("form#filters select[name=city]", value)
    _apply_filters(page)
    assert "city=" in page.url
    rows = page.locator(ROWS)
    expect(rows.first).to_be_visible()
    for text in rows.all_inner_texts():
        assert label in text, f"a row outside {label}: {text}"
    expect(page.locator("form#filters select[name=city]")).to_have_value(value)
    assert console_errors == []


def test_enterprise_list_tier_filter(page: Page, live_server: LiveServer, console_errors: list[str]) -> None:
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/enterprises")
    # The demo's one unicorn in the snapshot: the tier filter must find it and nothing of another tier.
    unicorns = {
        row[0]
        for row in live_server.query(
            "SELECT e.enterprise_id FROM tier_snapshot_entries e "
            "JOIN tier_snapshots s ON s.id = e.snapshot_id WHERE s.as_of = ? AND e.tier = 'unicorn'",
            AS_OF,
        )
    }
    assert unicorns
    page.select_option("form#filters select[name=tier]", "unicorn")
    _apply_filters(page)
    assert "tier=unicorn" in page.url
    ids = _enterprise_ids(page)
    assert ids and set(ids) <= unicorns, (ids, unicorns)
    assert console_errors == []


def test_enterprise_search_by_name(page: Page, live_server: LiveServer, console_errors: list[str]) -> None:
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/enterprises")
    name = page.locator(f"{ROWS} a.enterprise-link").nth(1).inner_text().strip()
    assert name
    page.fill("form#filters input[name=q]", name)
    _apply_filters(page)
    links = page.locator(f"{ROWS} a.enterprise-link")
    expect(links.first).to_be_visible()
    for text in links.all_inner_texts():
        assert name in text
    assert console_errors == []


def test_profile_shows_tier_trace(page: Page, live_server: LiveServer, console_errors: list[str]) -> None:
    (enterprise_id, name, trace_json), *_ = live_server.query(
        "SELECT e.enterprise_id, r.name, e.trace FROM tier_snapshot_entries e "
        "JOIN enterprises r ON r.id = e.enterprise_id WHERE e.tier = 'unicorn' ORDER BY e.enterprise_id",
    )
    trace = unpack_json(trace_json)  # stored compressed
    passed = next(check for check in trace["checks"] if check["tier"] == "unicorn")
    criteria = {c["criterion"] for alternative in passed["alternatives"] for c in alternative}

    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/enterprises")
    page.fill("form#filters input[name=q]", name)
    _apply_filters(page)
    page.locator(f"{ROWS} a.enterprise-link", has_text=name).first.click()
    page.wait_for_url(f"{live_server.url}/enterprises/{quote(enterprise_id, safe='')}")
    expect(page.locator("h1")).to_contain_text(name)
    table = page.locator("#tier-trace")
    expect(table).to_be_visible()
    assert table.locator("tbody tr").count() >= len(criteria)
    # The unicorn tier's rows name every criterion that the stored trace checked for it.
    shown = table.locator("tbody tr[data-tier=unicorn]").evaluate_all(
        "rows => rows.map(r => r.dataset.criterion)"
    )
    assert criteria <= set(shown), (criteria, shown)
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_county_officer_sees_only_their_county(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    region = USERS["county"][1]
    in_county = {
        row[0] for row in live_server.query("SELECT id FROM enterprises WHERE region_code = ?", region)
    }
    assert in_county
    login(page, live_server, "county")
    page.goto(f"{live_server.url}/enterprises")
    ids = _enterprise_ids(page)
    assert ids and set(ids) <= in_county, sorted(set(ids) - in_county)
    assert console_errors == []


def test_phone_width_keeps_pages_within_the_screen(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    """At 390 px the cockpit's charts stack in one column and nothing widens the page sideways (wide tables
    scroll inside their cards); clicking a city in the cockpit's table filters the cockpit."""
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "admin")
    for path in ("/", "/enterprises", "/leads"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
    page.goto(live_server.url + "/")
    boxes = [page.locator(f"#{chart}").bounding_box() for chart in ("zj-map", "track-chart")]
    assert all(box is not None for box in boxes)
    assert boxes[1]["y"] > boxes[0]["y"] + boxes[0]["height"] - 1  # type: ignore[index]  # one column
    page.locator("#city-table a", has_text="宁波市").click()
    page.wait_for_url(re.compile(r"/\?city=330200$"))
    expect(page.locator("h1")).to_contain_text("宁波市")
    page.wait_for_load_state("networkidle")
    assert console_errors == []
