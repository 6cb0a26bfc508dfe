"""The demo data generator: a complete, valid, deterministic data package; and the fitted round model."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from qilin.common.files import OutputError
from qilin.demo import fit, generate
from qilin.demo.generate import GenerateSummary, generate_package
from qilin.demo.real import data_csv
from qilin.reference import industries, regions, tracks, uscc
from qilin.registry.package import FILES

ROOT = Path(__file__).resolve().parent.parent
BACKTEST_DIR = ROOT / "data" / "backtest" / "dev"
MODEL_PATH = ROOT / "src" / "qilin" / "demo" / "data" / "round_model.json"
AS_OF = dt.date(2025, 12, 31)
DATE_COLUMNS = (
    "founded_on",
    "status_as_of",
    "announced_on",
    "as_of",
    "joined_on",
    "acquired_on",
    "occurred_on",
)
ALLOWED_LABELS = {
    "天使轮", "种子轮", "Pre-A轮", "A轮", "A+轮", "B轮", "B+轮", "C轮", "D轮", "E轮", "战略投资",
    "天使+轮", "Pre-B轮", "C+轮", "D+轮", "F轮-上市前", "新三板定增",
}  # fmt: skip
AMOUNT_FORM = re.compile(r"^(\d+(\.\d{1,2})?(万|亿|亿美元|万美元)|数百万|数千万|数亿|近亿|未透露)$")


def _rows(folder: Path, kind: str) -> list[dict[str, str]]:
    with (folder / f"{kind}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateSummary]:
    out = tmp_path_factory.mktemp("demo")
    done: list[int] = []
    summary = generate_package(out, enterprises=300, seed=11, as_of=AS_OF, progress=done.append)
    assert done == [300]
    return out, summary


@pytest.fixture(scope="module")
def cohort_2000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo2000")
    generate_package(out, enterprises=2000, seed=5, as_of=AS_OF, include_real=False)
    return out


@pytest.fixture(scope="module")
def cohort_5000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo5000")
    generate_package(out, enterprises=5000, seed=20240101, as_of=AS_OF, include_real=False)
    return out


def test_every_file_has_exactly_the_package_header(package: tuple[Path, GenerateSummary]) -> None:
    folder, summary = package
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{kind}.csv" for kind in FILES)
    for kind, spec in FILES.items():
        raw = (folder / f"{kind}.csv").read_bytes()
        assert b"\r" not in raw
        with (folder / f"{kind}.csv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert tuple(rows[0]) == spec.columns, kind
        assert all(len(r) == len(spec.columns) for r in rows[1:]), kind
        assert summary.counts[kind] == len(rows) - 1, kind
    assert summary.counts["rounds"] > 0 and summary.counts["operating_reports"] > 0


def test_companies_are_valid_and_unique(package: tuple[Path, GenerateSummary]) -> None:
    folder, summary = package
    companies = _rows(folder, "companies")
    synthetic = [c for c in companies if c["id"].startswith("SYN-")]
    assert len(synthetic) == summary.synthetic_companies == 300
    assert [c["id"] for c in synthetic] == [f"SYN-{i:07d}" for i in range(1, 301)]
    assert len({c["id"] for c in companies}) == len(companies)
    assert len({c["name"] for c in companies}) == len(companies)
    codes = [c["uscc"] for c in companies if c["uscc"]]
    assert len(set(codes)) == len(codes)
    assert all(uscc.is_valid(code) for code in codes)
    known_tracks = set(tracks.all_tracks())
    classes = industries.gbt4754()
    city_names = {r.name.removesuffix("市") for r in regions.zhejiang_cities()}
    for c in synthetic:
        assert uscc.is_valid(c["uscc"]), c
        assert c["country"] == "CN" and c["status_as_of"] == AS_OF.isoformat()
        assert c["source"] == "qilin demo (synthetic)"
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,}有限公司", c["name"]), c["name"]
        assert c["name"][:2] in city_names
        assert c["name_en"].endswith("Co., Ltd.")
        assert classes[c["industry_code"]].level == "class"
        codes_of_company = c["tracks"].split(";")
        assert 1 <= len(codes_of_company) <= 2 and set(codes_of_company) <= known_tracks
        assert len(set(codes_of_company)) == len(codes_of_company)
        assert c["status"] in ("operating", "acquired", "closed", "ipo")
        assert "2008-01-01" <= c["founded_on"] <= AS_OF.isoformat()


def test_regions_are_zhejiang_counties_or_empty(package: tuple[Path, GenerateSummary]) -> None:
    folder, _ = package
    counties = {r.code for r in regions.zhejiang_counties()}
    for c in _rows(folder, "companies"):
        if c["id"].startswith("SYN-"):
            assert c["region_code"] in counties
            city = regions.city_of(c["region_code"])
            assert city is not None and city.name == c["city"]
        else:
            # Real unicorns: a region only with a valid 统一社会信用代码, the city always.
            assert c["city"].endswith("市")
            if c["region_code"]:
                assert c["uscc"] and uscc.is_valid(c["uscc"])
                assert regions.is_zhejiang(c["region_code"])
                assert regions.city_of(c["region_code"]).name == c["city"]  # type: ignore[union-attr]
            if not c["uscc"]:
                assert c["region_code"] == ""


def test_all_eleven_cities_appear_in_2000_companies(cohort_2000: Path) -> None:
    cities = {c["city"] for c in _rows(cohort_2000, "companies")}
    assert cities == {r.name for r in regions.zhejiang_cities()}
    assert len(cities) == 11
    by_city = [c["city"] for c in _rows(cohort_2000, "companies")]
    assert by_city.count("杭州市") > by_city.count("宁波市") > by_city.count("丽水市")


def _assert_nothing_after(folder: Path, as_of: dt.date) -> int:
    checked = 0
    for kind, spec in FILES.items():
        for row in _rows(folder, kind):
            for col in DATE_COLUMNS:
                if col in spec.columns and row[col]:
                    assert dt.date.fromisoformat(row[col]) <= as_of, (kind, row)
                    checked += 1
            if kind == "operating_reports":
                assert int(row["year"]) <= as_of.year
    return checked


def test_no_date_after_as_of(package: tuple[Path, GenerateSummary], tmp_path: Path) -> None:
    folder, _ = package
    assert _assert_nothing_after(folder, AS_OF) > 1000
    early = dt.date(2019, 6, 30)
    generate_package(tmp_path, enterprises=300, seed=3, as_of=early)
    assert _assert_nothing_after(tmp_path, early) > 100
    reports = _rows(tmp_path, "operating_reports")
    assert max(int(r["year"]) for r in reports) == 2018  # 2019 is not over on 2019-06-30
    real_ids = {c["id"] for c in _rows(tmp_path, "companies") if c["id"].startswith("CBI-")}
    assert "CBI-beibei" in real_ids and "CBI-unitree-robotics" not in real_ids


def test_rounds_follow_founding_and_status_events_match(package: tuple[Path, GenerateSummary]) -> None:
    folder, _ = package
    companies = {c["id"]: c for c in _rows(folder, "companies")}
    for r in _rows(folder, "rounds"):
        founded = companies[r["company_id"]]["founded_on"]
        assert r["announced_on"] >= founded
    kinds = {(e["company_id"], e["kind"]) for e in _rows(folder, "lifecycle_events")}
    acquired = {a["company_id"] for a in _rows(folder, "acquisitions")}
    last_status: dict[str, str] = {}
    for h in _rows(folder, "status_history"):
        last_status[h["company_id"]] = h["status"]
    changed = [c for c in companies.values() if c["status"] != "operating"]
    assert changed, "a cohort of 300 should have some exits"
    for c in changed:
        assert last_status[c["id"]] == c["status"]
        if c["status"] == "ipo":
            assert (c["id"], "ipo") in kinds
        elif c["status"] == "closed":
            assert (c["id"], "closure") in kinds
        else:
            assert c["id"] in acquired
    assert {a for a in acquired} == {c["id"] for c in changed if c["status"] == "acquired"}


def test_every_row_refers_to_an_existing_company(package: tuple[Path, GenerateSummary]) -> None:
    folder, _ = package
    ids = {c["id"] for c in _rows(folder, "companies")}
    for kind in FILES:
        if kind == "companies":
            continue
        rows = _rows(folder, kind)
        assert {r["company_id"] for r in rows} <= ids, kind


def test_synthetic_flag_marks_synthetic_rows_only(package: tuple[Path, GenerateSummary]) -> None:
    folder, _ = package
    real_rows = 0
    for kind in FILES:
        for row in _rows(folder, kind):
            key = row["id"] if kind == "companies" else row["company_id"]
            if key.startswith("SYN-"):
                assert row["synthetic"] == "1", (kind, row)
            else:
                assert key.startswith("CBI-")
                assert row["synthetic"] == "", (kind, row)
                real_rows += 1
    assert real_rows >= 19 * 3  # companies, valuations, unicorn events


def test_real_unicorns_carry_public_facts_only(package: tuple[Path, GenerateSummary]) -> None:
    folder, summary = package
    listed = data_csv("zhejiang_unicorns_cbinsights.csv")
    real = [c for c in _rows(folder, "companies") if c["id"].startswith("CBI-")]
    assert len(real) == len(listed) == summary.real_companies == 19
    assert all(c["founded_on"] == "" and c["status"] == "operating" for c in real)
    assert all(c["source"] == "CB Insights Global Unicorn Club (public facts)" for c in real)
    by_id = {c["id"]: c for c in real}
    assert by_id["CBI-we-doctor"]["name"] == "微医" and by_id["CBI-we-doctor"]["name_en"] == "We Doctor"
    assert by_id["CBI-1kmxc"]["name"] == "1KMXC"  # no Chinese name known: the English one
    assert by_id["CBI-astronergy"]["city"] == "嘉兴市"
    valuations = [v for v in _rows(folder, "valuations") if v["company_id"].startswith("CBI-")]
    assert len(valuations) == 19
    assert all(v["currency"] == "USD" and v["evidence"] == "third-party-list" for v in valuations)
    assert {"company_id": "CBI-we-doctor", "as_of": "2025-07-03", "value": "7000000000"}.items() <= next(
        v for v in valuations if v["company_id"] == "CBI-we-doctor"
    ).items()
    events = {
        e["company_id"]: e for e in _rows(folder, "unicorn_events") if e["company_id"].startswith("CBI-")
    }
    assert events["CBI-unitree-robotics"]["joined_on"] == "2025-06-20"
    assert events["CBI-unitree-robotics"]["source"] == "CB Insights Global Unicorn Club"


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_package(a, enterprises=400, seed=99)
    generate_package(b, enterprises=400, seed=99)
    generate_package(c, enterprises=400, seed=100)
    for kind in FILES:
        assert (a / f"{kind}.csv").read_bytes() == (b / f"{kind}.csv").read_bytes(), kind
    assert (a / "companies.csv").read_bytes() != (c / "companies.csv").read_bytes()
    assert (a / "rounds.csv").read_bytes() != (c / "rounds.csv").read_bytes()


def test_rounds_are_written_as_chinese_databases_write_them(cohort_5000: Path) -> None:
    rounds = _rows(cohort_5000, "rounds")
    assert len(rounds) > 2000
    labels = [r["round_type"] for r in rounds]
    assert set(labels) <= ALLOWED_LABELS
    assert {"天使轮", "A轮", "B轮", "C轮", "战略投资"} <= set(labels)
    amounts = [r["amount"] for r in rounds]
    assert all(AMOUNT_FORM.match(a) for a in amounts), [a for a in amounts if not AMOUNT_FORM.match(a)][:5]
    undisclosed = sum(a == "未透露" for a in amounts) / len(amounts)
    vague = sum(a in ("数百万", "数千万", "数亿", "近亿") for a in amounts) / len(amounts)
    in_usd = sum(a.endswith("美元") for a in amounts) / len(amounts)
    assert 0.05 < undisclosed < 0.11
    assert 0.06 < vague < 0.14
    assert 0.03 < in_usd < 0.25
    assert all(r["currency"] == "" for r in rounds)
    with_post = [r for r in rounds if r["post_money_valuation"]]
    assert 0.2 < len(with_post) / len(rounds) < 0.5
    assert all(r["post_money_currency"] in ("CNY", "USD") for r in with_post)
    named = [r["investors"].split(";") for r in rounds if r["investors"]]
    assert all(1 <= len(n) <= 3 and len(set(n)) == len(n) for n in named)


def test_generated_rounds_parse_with_the_registry_parser(cohort_5000: Path) -> None:
    from qilin.registry.parsing import parse_amount, parse_round_type

    rounds = _rows(cohort_5000, "rounds")
    for label in {r["round_type"] for r in rounds}:
        assert parse_round_type(label).round_type in (
            "angel",
            "seed",
            "series-a",
            "series-b",
            "series-c+",
            "strategic",
            "private-equity",
        )
    for text in {r["amount"] for r in rounds}:
        parsed = parse_amount(text)
        if text != "未透露":
            assert parsed.value is not None or parsed.vague, text


def test_valuation_top_is_plausible(cohort_5000: Path) -> None:
    best: dict[str, float] = {}
    for v in _rows(cohort_5000, "valuations"):
        assert v["currency"] == "CNY" and v["evidence"] in ("disclosed", "estimated", "self-declared")
        assert v["value"].isdigit() and int(v["value"]) > 0
        best[v["company_id"]] = max(best.get(v["company_id"], 0.0), float(v["value"]))
    unicorn_level = sum(x >= 7e9 for x in best.values()) / 5000
    large = sum(x >= 7e8 for x in best.values()) / 5000
    assert 0.005 <= unicorn_level <= 0.03
    assert 0.03 <= large <= 0.09
    events = _rows(cohort_5000, "unicorn_events")
    assert abs(len(events) / 5000 - unicorn_level) < 0.005


def test_operating_reports_cover_recent_years(cohort_5000: Path) -> None:
    reports = _rows(cohort_5000, "operating_reports")
    companies = {c["id"]: c for c in _rows(cohort_5000, "companies")}
    per_company: dict[str, list[int]] = {}
    for r in reports:
        per_company.setdefault(r["company_id"], []).append(int(r["year"]))
        assert int(r["employees"]) >= int(r["rd_staff"]) >= 1
        assert int(r["revenue"]) > 0 and int(r["rd_expense"]) > 0
        assert int(r["year"]) >= int(companies[r["company_id"]]["founded_on"][:4])
    assert all(len(years) <= 5 and years == sorted(set(years)) for years in per_company.values())
    operating = [c for c in companies.values() if c["status"] == "operating"]
    assert all(c["id"] in per_company for c in operating)


def test_generate_rejects_impossible_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_package(tmp_path, enterprises=-1)
    with pytest.raises(ValueError):
        generate_package(tmp_path, enterprises=10, as_of=dt.date(2007, 12, 31))
    with pytest.raises(ValueError, match="seed"):
        generate_package(tmp_path, enterprises=10, seed=-1)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_generate_leaves_the_previous_package_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files are written beside the package and moved in when all are complete: a run that fails (or is
    interrupted) half-way leaves the previous files, not eight truncated ones."""
    out = tmp_path / "pkg"
    generate_package(out, enterprises=30, seed=1, as_of=AS_OF)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(generate, "_synthetic_chunk", broken)
    with pytest.raises(RuntimeError, match="interrupted"):
        generate_package(out, enterprises=40, seed=2, as_of=AS_OF)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no stray temporary folder either


def test_generate_refuses_an_unwritable_folder_before_the_work(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("", encoding="utf-8")
    with pytest.raises(OutputError) as caught:
        generate_package(tmp_path / "afile" / "pkg", enterprises=10)
    assert caught.value.key == "output.not_dir"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_fitted_model_probabilities_sum_to_one() -> None:
    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert model["source"] == "Crunchbase 2013 export, CC-BY, data/backtest/dev"
    dt.date.fromisoformat(model["fitted_on"])
    assert model["stages"] == ["seed", "angel", "series-a", "series-b", "series-c+"]
    for stage in model["stages"]:
        probs = model["progression"][stage]
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-9), stage
        assert all(p >= 0 for p in probs.values())
        later = model["stages"][model["stages"].index(stage) :]
        assert set(probs) == {*later, "none"}
        assert model["round_size_usd"][stage]["sigma"] > 0
        quantiles = model["gap_days"][stage]["values"]
        assert quantiles == sorted(quantiles) and len(quantiles) == len(model["quantile_levels"])
    for table in (model["entry_stage"], model["rounds_per_company"]["p"], model["unstaged"]["only_rounds"]):
        assert sum(table.values()) == pytest.approx(1.0, abs=1e-9)
    sizes = model["round_size_usd"]
    assert sizes["angel"]["median"] < sizes["series-a"]["median"] < sizes["series-b"]["median"]
    assert sizes["series-b"]["median"] < sizes["series-c+"]["median"]


def test_committed_model_is_what_the_fit_produces() -> None:
    committed = MODEL_PATH.read_text(encoding="utf-8")
    fitted_on = dt.date.fromisoformat(json.loads(committed)["fitted_on"])
    model = fit.fit_round_model(BACKTEST_DIR)
    model["fitted_on"] = fitted_on.isoformat()
    model["source"] = fit.SOURCE_TEMPLATE.format(path="data/backtest/dev")
    assert fit.dumps(model) == committed


def test_fit_command_writes_deterministic_json(tmp_path: Path) -> None:
    out_a, out_b = tmp_path / "a.json", tmp_path / "b.json"
    assert fit.main([str(BACKTEST_DIR), str(out_a)]) == 0
    assert fit.main([str(BACKTEST_DIR), str(out_b)]) == 0
    assert out_a.read_bytes() == out_b.read_bytes()
    assert fit.main([]) == 2


def test_fx_rates_are_yearly_and_near_seven() -> None:
    rates = generate.usd_cny_rates(2008, 2025)
    assert rates.shape == (18,)
    assert all(6.0 < r < 7.5 for r in rates)
