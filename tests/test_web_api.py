"""The JSON API (/api/v1) for other government systems: tokens, the enterprise list with its filters and
refusals (422, never 500), reading and correcting one enterprise, tier traces, exact money strings and the
OpenAPI description. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qilin.audit.models import AuditEntry
from qilin.auth.roles import Role
from qilin.common.dates import today
from qilin.registry.models import Enterprise, FundingRound
from webkit import (
    API,
    NAME_OF,
    PASSWORD,
    USCC_OF,
    WEST,
    WEST_ROUND_AMOUNT,
    WEST_VALUATION,
    YINZHOU,
    YUHANG,
    Dataset,
    TestClient,
    api_token,
    bearer,
    client,
    create_users,
    dataset,
    flat_routes,
    role_users,
    tokens,
    web_app,
    web_settings,
)

__all__ = ["client", "dataset", "role_users", "tokens", "web_app", "web_settings"]  # fixtures

EVERYONE = {WEST, YUHANG, YINZHOU}
DECIMAL_STRING = re.compile(r"^-?\d+(\.\d+)?$")


def _get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    response = client.get(API + path, headers=bearer(token), params=params)
    assert response.status_code == 200, (path, params, response.text)
    assert response.headers["content-type"] == "application/json"
    return response.json()


def _ids(client: TestClient, token: str, **params: Any) -> set[str]:
    page = _get(client, token, "/enterprises", **params)
    ids = {item["id"] for item in page["items"]}
    assert page["total"] == len(ids), (params, page)
    return ids


# ---- tokens -----------------------------------------------------------------------------------------------


def test_the_token_endpoint_takes_form_fields_and_answers_a_bearer_token(
    client: TestClient, session: Session
) -> None:
    create_users(session, [Role.county_officer])
    response = api_token(client, "county_officer", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type"} and body["token_type"] == "bearer"
    assert PASSWORD not in response.text

    me = _get(client, body["access_token"], "/auth/me")
    assert me["username"] == "county_officer" and me["role"] == "county_officer"
    assert me["region_code"] == "330106" and me["role_label"] == "县级用户"
    expected = ["financial", "process_leads", "read_leads", "read_registry", "write_registry"]
    assert me["permissions"] == expected

    # JSON instead of form fields, or a missing field: refused as invalid, with a message.
    as_json = client.post(f"{API}/auth/token", json={"username": "county_officer", "password": PASSWORD})
    assert as_json.status_code == 422 and isinstance(as_json.json()["detail"], str)
    missing = client.post(f"{API}/auth/token", data={"username": "county_officer"})
    assert missing.status_code == 422
    assert ["body", "password"] in [e["loc"] for e in missing.json()["errors"]]


# ---- the enterprise list ----------------------------------------------------------------------------------


def test_list_filters_search_sort_and_pages(
    client: TestClient, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    admin = tokens[Role.province_admin]
    page = _get(client, admin, "/enterprises", sort="tier")
    assert page["total"] == 3 and page["page"] == 1 and page["page_size"] == 20
    assert page["tier_snapshot_as_of"] == "2025-06-30"
    # By tier: unicorn, potential unicorn, … none.
    assert [(i["id"], i["tier"]) for i in page["items"]] == [
        (WEST, "unicorn"),
        (YINZHOU, "potential_unicorn"),
        (YUHANG, "none"),
    ]
    west = page["items"][0]
    assert west["city"] == "杭州市" and west["county"] == "西湖区" and west["tracks"] == ["ai"]
    assert west["latest_stage"] == "series-b" and west["uscc"] == USCC_OF[WEST]

    # Regions: province, city or county code.
    assert _ids(client, admin, region="330000") == EVERYONE
    assert _ids(client, admin, region="330100") == {WEST, YUHANG}
    assert _ids(client, admin, region="330106") == {WEST}
    assert _ids(client, admin, region="330200") == {YINZHOU}
    assert _ids(client, admin, region="110000") == set()
    # Tracks, tiers, stages.
    assert _ids(client, admin, track="ai") == {WEST}
    assert _ids(client, admin, track="advanced_materials") == {YINZHOU}
    assert _ids(client, admin, tier="unicorn") == {WEST}
    assert _ids(client, admin, tier="potential_unicorn") == {YINZHOU}
    assert _ids(client, admin, tier="none") == {YUHANG}
    assert _ids(client, admin, stage="series-b") == {WEST, YINZHOU}
    assert _ids(client, admin, region="330100", tier="unicorn", track="ai") == {WEST}
    assert _ids(client, admin, region="330100", track="advanced_materials") == set()
    # Search: part of the name, or a whole USCC (any case); LIKE wildcards are plain characters.
    assert _ids(client, admin, q="西湖") == {WEST}
    assert _ids(client, admin, q="  余杭数据 ") == {YUHANG}
    assert _ids(client, admin, q=USCC_OF[YINZHOU].lower()) == {YINZHOU}
    assert _ids(client, admin, q=USCC_OF[YINZHOU][:10]) == set()
    assert _ids(client, admin, q="%") == set()
    assert _ids(client, admin, q="_") == set()
    # Sorting.
    by_name = [i["name"] for i in _get(client, admin, "/enterprises", sort="name")["items"]]
    assert by_name == sorted(NAME_OF.values())
    assert [i["name"] for i in _get(client, admin, "/enterprises", sort="-name")["items"]] == by_name[::-1]
    by_founding = [i["id"] for i in _get(client, admin, "/enterprises", sort="founded")["items"]]
    assert by_founding[0] == WEST  # founded 2019, the others 2021
    # Pages.
    seen: list[str] = []
    for n in (1, 2):
        part = _get(client, admin, "/enterprises", page=n, page_size=2, sort="name")
        assert part["total"] == 3 and part["page"] == n and part["page_size"] == 2
        seen += [i["id"] for i in part["items"]]
    assert len(seen) == 3 and set(seen) == EVERYONE
    beyond = _get(client, admin, "/enterprises", page=3, page_size=2)
    assert beyond["items"] == [] and beyond["total"] == 3
    assert _get(client, admin, "/enterprises", page_size=100)["page_size"] == 100


def test_bad_list_parameters_are_refused_with_a_message_never_a_server_error(
    client: TestClient, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    admin = tokens[Role.province_admin]
    refused = [
        {"page_size": "101"},
        {"page_size": "0"},
        {"page_size": "-1"},
        {"page_size": "ten"},
        {"page": "0"},
        {"page": "100001"},
        {"region": "abc"},
        {"region": "3301"},
        {"region": "3301060"},
        {"sort": "bad"},
        {"sort": "name; DROP TABLE enterprises"},
        {"q": "x" * 101},
        {"track": "t" * 41},
    ]
    for params in refused:
        response = client.get(f"{API}/enterprises", headers=bearer(admin), params=params)
        assert response.status_code == 422, params
        body = response.json()
        assert body["detail"] == "请求参数无效 / invalid request parameters", params
        assert body["errors"] and body["errors"][0]["loc"][0] == "query", params
        assert all(" / " in e["msg"] for e in body["errors"]), body  # each reason in both languages
    reasons = {
        "101": "不能大于 100 / Input should be less than or equal to 100",
        "0": "不能小于 1 / Input should be greater than or equal to 1",
        "ten": "应为整数 / Input should be a valid integer",
    }
    for value, reason in reasons.items():
        response = client.get(f"{API}/enterprises", headers=bearer(admin), params={"page_size": value})
        [error] = response.json()["errors"]
        assert error["msg"].startswith(reason), value
    tolerated = [
        {"tier": "bogus"},
        {"track": "'; DROP TABLE enterprises; --"},
        {"q": "' OR 1=1 --"},
        {"q": "\\"},
        {"stage": "🦄"},
    ]
    for params in tolerated:
        page = _get(client, admin, "/enterprises", **params)
        assert page["items"] == [] and page["total"] == 0, params
    last = _get(client, admin, "/enterprises", page=100_000, page_size=100)
    assert last["items"] == [] and last["total"] == 3
    assert _ids(client, admin) == EVERYONE  # nothing was dropped


# ---- one enterprise: read and correct ---------------------------------------------------------------------


def test_enterprise_detail_and_records_carry_exact_money_strings(
    client: TestClient, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    county = tokens[Role.county_officer]
    detail = _get(client, county, f"/enterprises/{WEST}")
    assert detail["name"] == NAME_OF[WEST] and detail["region_code"] == "330106"
    assert detail["tier"] == "unicorn" and detail["financial_hidden"] is False
    valuation = detail["latest_valuation"]
    assert valuation["currency"] == "USD" and valuation["text"]
    assert isinstance(valuation["amount"], str) and DECIMAL_STRING.match(valuation["amount"])
    assert Decimal(valuation["amount"]) == WEST_VALUATION
    assert detail["latest_valuation_as_of"] == "2024-06-01"

    rounds = _get(client, county, f"/enterprises/{WEST}/rounds")
    assert len(rounds) == 1
    assert rounds[0]["amount"] == {
        "amount": "123456789.01",
        "currency": "USD",
        "text": rounds[0]["amount"]["text"],
    }
    assert Decimal(rounds[0]["amount"]["amount"]) == WEST_ROUND_AMOUNT
    assert Decimal(rounds[0]["post_money_valuation"]["amount"]) == WEST_VALUATION
    assert rounds[0]["round_type"] == "series-b" and rounds[0]["announced_on"] == "2023-05-01"

    valuations = _get(client, county, f"/enterprises/{WEST}/valuations")
    assert [(v["as_of"], v["value"]["amount"], v["evidence"]) for v in valuations] == [
        ("2024-06-01", format(WEST_VALUATION.normalize(), "f"), "disclosed")
    ]
    events = _get(client, county, f"/enterprises/{WEST}/events")
    assert [(e["kind"], e["occurred_on"]) for e in events] == [("unicorn_list_entry", "2024-12-01")]
    assert _get(client, tokens[Role.city_officer], f"/enterprises/{YUHANG}/rounds") == []
    discovery = _get(client, county, f"/enterprises/{WEST}/discovery")
    assert discovery["score"]["rank"] == 1 and discovery["score"]["reasons"] == ["测试"]
    assert isinstance(discovery["signals"], list)


def test_patch_corrects_fields_and_refuses_what_it_must(
    client: TestClient, session: Session, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    def patch(role: Role, body: Any, eid: str = WEST) -> Any:
        return client.patch(f"{API}/enterprises/{eid}", headers=bearer(tokens[role]), json=body)

    renamed = patch(Role.county_officer, {"name": "  杭州西湖新名称科技有限公司 ", "category": "A"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "杭州西湖新名称科技有限公司" and renamed.json()["category"] == "A"
    assert (
        _get(client, tokens[Role.province_admin], f"/enterprises/{WEST}")["name"]
        == "杭州西湖新名称科技有限公司"
    )

    refusals = [
        (Role.county_officer, {"unknown_field": 1}),
        (Role.county_officer, {"name": ""}),
        (Role.county_officer, {"name": "   "}),
        (Role.county_officer, {"name": None}),
        (Role.county_officer, {"name": "x" * 201}),
        (Role.county_officer, {"founded_on": "2999-01-01"}),
        (Role.county_officer, {"founded_on": "0001-01-01"}),
        (Role.county_officer, {"founded_on": "not-a-date"}),
        (Role.county_officer, {"industry_code": "9999"}),
        (Role.county_officer, {"region_code": "33010"}),
        (Role.county_officer, {"region_code": "999999"}),
        # A county officer cannot move an enterprise to another county, even in its own city.
        (Role.county_officer, {"region_code": "330110"}),
        # A city officer cannot move one out of its city.
        (Role.city_officer, {"region_code": "330212"}),
    ]
    for role, body in refusals:
        response = patch(role, body)
        assert response.status_code == 422, (role, body, response.text)
        assert isinstance(response.json()["detail"], str)
    assert "330110" in patch(Role.county_officer, {"region_code": "330110"}).json()["detail"]
    for bad_body in ("not json", "[1, 2]"):
        response = client.patch(
            f"{API}/enterprises/{WEST}",
            headers={**bearer(tokens[Role.county_officer]), "content-type": "application/json"},
            content=bad_body,
        )
        assert response.status_code == 422, bad_body
    session.expire_all()
    stored = session.get(Enterprise, WEST)
    assert stored is not None
    assert (
        stored.name,
        stored.region_code,
        stored.founded_on.isoformat() if stored.founded_on else None,
    ) == (
        "杭州西湖新名称科技有限公司",
        "330106",
        "2019-01-01",
    )
    session.commit()

    # An enterprise user may correct its own record, but never its region (not even to the same one).
    assert patch(Role.enterprise, {"name_en": "West Lake AI"}).status_code == 200
    assert patch(Role.enterprise, {"region_code": "330106"}).status_code == 403
    assert patch(Role.enterprise, {"region_code": "330110"}).status_code == 403

    # A city officer may move an enterprise inside its city: it then leaves the county officer's scope.
    moved = patch(Role.city_officer, {"region_code": "330110"})
    assert moved.status_code == 200
    assert (moved.json()["region_code"], moved.json()["county"], moved.json()["city"]) == (
        "330110",
        "余杭区",
        "杭州市",
    )
    assert (
        client.get(f"{API}/enterprises/{WEST}", headers=bearer(tokens[Role.county_officer])).status_code
        == 404
    )
    assert patch(Role.county_officer, {"name": "x"}).status_code == 404
    # The province administrator may move it anywhere in the province.
    assert patch(Role.province_admin, {"region_code": "330212"}).json()["city"] == "宁波市"


# ---- tiers ------------------------------------------------------------------------------------------------


def test_tier_trace_history_summary_and_standards(
    client: TestClient, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    admin = tokens[Role.province_admin]
    trace = _get(client, admin, f"/enterprises/{WEST}/tier", as_of="2025-06-30")
    assert trace["enterprise_id"] == WEST and trace["as_of"] == "2025-06-30"
    assert trace["tier"] == "unicorn" and trace["standard"]["id"].startswith("zhejiang-2024")
    assert trace["checks"], "every tier's check is shown"
    unicorn = next(c for c in trace["checks"] if c["tier"] == "unicorn")
    assert unicorn["passed"] is True
    criteria = [c for route in unicorn["routes"] for c in route["criteria"]]
    names = {c["criterion"] for c in criteria}
    assert {"registered_in_province", "min_valuation", "max_age_years"} <= names
    for c in criteria:
        assert set(c) == {"criterion", "label", "passed", "value", "reason", "details", "evidence"}
        assert c["passed"] is True and c["label"]
    # the records behind a verdict: ids for machines, words for people
    valuation = next(c for c in criteria if c["criterion"] == "min_valuation")
    [record] = valuation["evidence"]
    assert record["kind"] == "valuation" and record["record_id"] and record["date"]
    words = next(d for d in valuation["details"] if d.startswith("依据："))
    assert f"{record['date']} 估值（" in words and "#" not in words
    super_unicorn = next(c for c in trace["checks"] if c["tier"] == "super_unicorn")
    assert super_unicorn["passed"] is False
    failed = [c for route in super_unicorn["routes"] for c in route["criteria"] if not c["passed"]]
    assert [c["criterion"] for c in failed] == ["min_valuation"]

    assert (
        client.get(
            f"{API}/enterprises/{WEST}/tier", headers=bearer(admin), params={"standard": "no-such-standard"}
        ).status_code
        == 422
    )
    assert (
        client.get(
            f"{API}/enterprises/{WEST}/tier", headers=bearer(admin), params={"as_of": "2025-13-01"}
        ).status_code
        == 422
    )
    future = client.get(
        f"{API}/enterprises/{WEST}/tier", headers=bearer(admin), params={"as_of": "9999-12-31"}
    )
    assert future.status_code == 422 and "晚于今天" in future.json()["detail"]

    history = _get(client, admin, f"/enterprises/{WEST}/tier-history")
    assert [(h["as_of"], h["standard"], h["tier"]) for h in history] == [
        ("2025-06-30", "zhejiang-2024", "unicorn")
    ]
    summary = _get(client, admin, "/tiers/summary")
    assert summary["as_of"] == "2025-06-30"
    assert (
        summary["by_city"]["330100"]["unicorn"] == 1
        and summary["by_city"]["330200"]["potential_unicorn"] == 1
    )
    assert (
        client.get(f"{API}/tiers/summary", headers=bearer(admin), params={"as_of": "2020-01-01"}).status_code
        == 404
    )
    snapshots = _get(client, admin, "/tiers/snapshots")
    assert [(s["id"], s["standard"], s["as_of"]) for s in snapshots] == [
        (dataset.snapshot_id, "zhejiang-2024", "2025-06-30")
    ]
    standards = {s["id"]: s for s in _get(client, admin, "/standards")}
    assert "zhejiang-2024" in standards
    tiers = [t["tier"] for t in standards["zhejiang-2024"]["tiers"]]
    assert tiers[:2] == ["super_unicorn", "unicorn"]
    first_route = standards["zhejiang-2024"]["tiers"][1]["routes"][0]
    assert {"criterion": "min_valuation"}.items() <= next(
        c for c in first_route if c["criterion"] == "min_valuation"
    ).items()


def test_an_officer_moves_a_lead_through_the_api_and_the_audit_names_the_caller(
    client: TestClient, session: Session, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    county = bearer(tokens[Role.county_officer])
    url = f"{API}/leads/{dataset.own_lead}/transitions"

    def move(**body: Any) -> Any:
        return client.post(url, headers=county, json=body)

    moved = move(to_state="verifying")
    assert moved.status_code == 200 and moved.json()["status"] == "verifying", moved.text
    refused = move(to_state="rejected", comment="  ")
    assert refused.status_code == 422 and "不予采纳必须填写原因" in refused.json()["detail"]
    assert "（comment）" in refused.json()["detail"] and "--comment" not in refused.json()["detail"]
    outside = move(to_state="accepted", enterprise_id=YINZHOU)  # 鄞州区: not the county officer's
    assert outside.status_code == 422
    assert f"企业 {YINZHOU} 不存在或不在您的权限范围内" in outside.json()["detail"]
    assert move(to_state="accepted", note="x").status_code == 422  # unknown fields are refused
    accepted = move(to_state="accepted", enterprise_id=WEST, comment="走访核实")
    assert accepted.status_code == 200 and accepted.json()["enterprise_id"] == WEST
    assert move(to_state="verifying").status_code == 422  # a closed lead stays closed
    lead = _get(client, tokens[Role.province_admin], f"/leads/{dataset.own_lead}")
    assert (lead["status"], lead["enterprise_id"]) == ("accepted", WEST)
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "lead.transition").order_by(AuditEntry.id)
    ).all()
    assert [(r.actor, r.channel, (r.new or {})["to"]) for r in rows] == [
        ("county_officer", "api", "verifying"),
        ("county_officer", "api", "accepted"),
    ]


def test_leads_are_filtered_by_channel_and_status(
    client: TestClient, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    admin = tokens[Role.province_admin]

    def names(**params: str) -> list[str]:
        return [item["name"] for item in _get(client, admin, "/leads", **params)["items"]]

    assert names() == ["鄞州新星材料有限公司", "西湖新星科技有限公司"]
    assert names(channel="leading_fund") == ["西湖新星科技有限公司"]
    assert names(channel="third_party", status="new") == ["鄞州新星材料有限公司"]
    assert names(channel="university") == []
    refused = client.get(f"{API}/leads", headers=bearer(admin), params={"channel": "lottery"})
    assert refused.status_code == 422


def test_recent_signals_are_listed_in_scope_by_kind_and_region(
    client: TestClient, session: Session, dataset: Dataset, tokens: dict[Role, str]
) -> None:
    recent = today() - dt.timedelta(days=20)
    session.add_all(
        [  # 西湖: a round 4× its last (融资额翻倍); 鄞州: a follow-on within 12 months (快速再融资)
            FundingRound(enterprise_id=WEST, announced_on=recent, round_type="series-c+",
                         amount=4 * WEST_ROUND_AMOUNT, currency="USD"),
            FundingRound(enterprise_id=YINZHOU, announced_on=recent - dt.timedelta(days=80),
                         round_type="venture", amount=Decimal("10000000"), currency="USD"),
            FundingRound(enterprise_id=YINZHOU, announced_on=recent, round_type="venture",
                         amount=Decimal("12000000"), currency="USD"),
        ]
    )  # fmt: skip
    session.commit()
    admin, county = tokens[Role.province_admin], tokens[Role.county_officer]

    def found(token: str, **params: Any) -> set[tuple[str, str]]:
        page = _get(client, token, "/discovery/signals", **params)
        assert page["total"] >= len(page["items"])
        return {(item["company_id"], item["kind"]) for item in page["items"]}

    everything = found(admin, page_size=100)
    assert {(WEST, "round_doubled"), (YINZHOU, "quick_follow_on")} <= everything
    assert found(admin, kind="quick_follow_on") == {(YINZHOU, "quick_follow_on")}
    assert {eid for eid, _ in found(admin, region="330200", page_size=100)} == {YINZHOU}  # 宁波市
    assert {eid for eid, _ in found(county, page_size=100)} == {WEST}  # 西湖区's officer: its own
    one = _get(client, admin, "/discovery/signals", page_size=1)
    assert len(one["items"]) == 1 and one["total"] == len(everything)
    assert one["items"][0]["records"] and one["items"][0]["description_zh"]  # the records behind it
    for since in (today() - dt.timedelta(days=731), today() + dt.timedelta(days=1)):
        refused = client.get(f"{API}/discovery/signals", headers=bearer(admin), params={"since": str(since)})
        assert refused.status_code == 422 and "起始日期须在 730 天内" in refused.text
    assert (
        client.get(f"{API}/discovery/signals", headers=bearer(admin), params={"kind": "x"}).status_code == 422
    )


# ---- the API description ----------------------------------------------------------------------------------

API_OPERATIONS = {
    "/api/v1/auth/token": {"post"},
    "/api/v1/auth/me": {"get"},
    "/api/v1/enterprises": {"get"},
    "/api/v1/enterprises/{enterprise_id}": {"get", "patch"},
    "/api/v1/enterprises/{enterprise_id}/rounds": {"get"},
    "/api/v1/enterprises/{enterprise_id}/valuations": {"get"},
    "/api/v1/enterprises/{enterprise_id}/events": {"get"},
    "/api/v1/enterprises/{enterprise_id}/tier": {"get"},
    "/api/v1/enterprises/{enterprise_id}/tier-history": {"get"},
    "/api/v1/enterprises/{enterprise_id}/discovery": {"get"},
    "/api/v1/tiers/summary": {"get"},
    "/api/v1/tiers/snapshots": {"get"},
    "/api/v1/standards": {"get"},
    "/api/v1/discovery/scores": {"get"},
    "/api/v1/discovery/signals": {"get"},
    "/api/v1/leads": {"get"},
    "/api/v1/leads/{lead_id}": {"get"},
    "/api/v1/leads/{lead_id}/transitions": {"post"},
    "/api/v1/audit": {"get"},
}


def test_openapi_describes_exactly_the_api(client: TestClient, web_app: Any) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    spec = response.json()
    described = {path: set(ops) for path, ops in spec["paths"].items()}
    assert described == API_OPERATIONS  # no page appears, every API route does
    routed = {r.path for r in flat_routes(web_app) if r.path.startswith(API)} - {
        f"{API}/openapi.json",
        f"{API}/docs",
    }
    assert routed == set(API_OPERATIONS)
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    listing = {p["name"] for p in spec["paths"]["/api/v1/enterprises"]["get"]["parameters"]}
    assert {"region", "track", "tier", "stage", "q", "sort", "page", "page_size"} <= listing
