"""``qilin discover``: a small train → rank → backtest run, and bad input answered with a bilingual message
and exit code 1 (never a traceback)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qilin.cli import app
from test_discovery_fixtures import write_chinese_package, write_subset

runner = CliRunner()


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_subset(tmp_path_factory.mktemp("subset"), others=500)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["discover", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_train_rank_backtest(tmp_path: Path, subset: Path) -> None:
    model = tmp_path / "m.json"
    code, out, err = invoke(
        "train", "--data", str(subset), "--as-of", "2012-10-01", "--horizon-years", "12",
        "--out", str(model), "--n-estimators", "30",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(model.read_text(encoding="utf-8"))["metadata"]["training_as_of"] == "2012-10-01"
    ranking = tmp_path / "r.csv"
    code, _, err = invoke(
        "rank", "--data", str(subset), "--as-of", "2012-10-01", "--model", str(model), "--out", str(ranking)
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(ranking.read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["company_id", "score", "rank", "reasons"]
    assert rows[0]["rank"] == "1" and rows[0]["reasons"]
    code, _, err = invoke(
        "rank", "--data", str(subset), "--as-of", "2012-10-01", "--model", str(model), "--out", str(ranking),
        "--baselines",
    )  # fmt: skip
    assert code == 0, err
    wide = list(csv.DictReader(io.StringIO(ranking.read_text(encoding="utf-8"))))
    assert [r["company_id"] for r in wide] == [r["company_id"] for r in rows]
    places = sorted(int(r["rank_raised_2y"]) for r in wide if r["rank_raised_2y"])
    assert places[0] == 1 and len(places) < len(wide)  # companies with nothing known raised have no place
    assert all(r["rank_total_raised"] for r in wide if r["rank_raised_2y"])
    code, out, err = invoke(
        "backtest", "--data", str(subset), "--as-of", "2012-10-01", "--horizon-years", "12",
        "--folds", "3", "--n-estimators", "30", "--n-boot", "20", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)[0]
    assert set(report["scorers"]) == {"model", "total_raised", "raised_2y", "latest_round"}
    assert report["scorers"]["model"]["precision_at_1pct"]["low"] is not None
    code, out, err = invoke(
        "backtest", "--data", str(subset), "--as-of", "2013-10-01", "--horizon-years", "12",
        "--walk-forward", "--n-estimators", "20", "--n-boot", "10",
    )  # fmt: skip
    assert code == 0, err
    assert "walk-forward" in out and "latest_round" in out


def test_rank_with_shipped_model(tmp_path: Path) -> None:
    package = write_chinese_package(tmp_path / "zj")
    code, out, err = invoke(
        "rank", "--data", str(package), "--as-of", "2023-12-31", "--out", str(tmp_path / "r.csv")
    )
    assert code == 0, err
    assert "5" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--as-of", "2012/10/01"], "YYYY-MM-DD"),
        (["--as-of", "2012-02-30"], "YYYY-MM-DD"),
        (["--as-of", "1950-01-01"], "第一笔融资"),
        (["--data", "EMPTY"], "为空"),
        (["--data", "MISSING"], "不存在"),
        (["--data", "NOROUNDS"], "没有任何融资记录"),
        (["--model", "OTHER"], "特征集"),
    ],
)
def test_bad_input(tmp_path: Path, subset: Path, args: list[str], needle: str) -> None:
    (tmp_path / "empty").mkdir()
    other = tmp_path / "other.json"
    content = {"format": "qilin-discovery-model", "feature_names": ["n_rounds", "employees"]}
    other.write_text(json.dumps(content), encoding="utf-8")
    no_rounds = tmp_path / "no_rounds"
    no_rounds.mkdir()
    (no_rounds / "companies.csv").write_text("id,name,founded_on\na,A,2010-01-01\n", encoding="utf-8")
    (no_rounds / "rounds.csv").write_text("company_id,announced_on,amount\n", encoding="utf-8")
    paths = {
        "EMPTY": str(tmp_path / "empty"),
        "MISSING": str(tmp_path / "missing"),
        "NOROUNDS": str(no_rounds),
        "OTHER": str(other),
    }
    options = {"--data": str(subset), "--as-of": "2012-10-01"}
    options.update({k: paths.get(v, v) for k, v in zip(args[::2], args[1::2], strict=True)})
    flat = [item for pair in options.items() for item in pair]
    code, _, err = invoke("rank", *flat, "--out", str(tmp_path / "r.csv"))
    assert code == 1
    assert needle in err and " / " in err
    assert "Traceback" not in err
    if "--model" not in options:
        code, _, err = invoke("backtest", *flat, "--horizon-years", "12")
        assert code == 1 and needle in err
        code, _, err = invoke("train", *flat, "--horizon-years", "12", "--out", str(tmp_path / "m.json"))
        assert code == 1 and needle in err


def test_as_of_after_today(tmp_path: Path, subset: Path, frozen_today: str) -> None:
    for command in (["rank", "--out", str(tmp_path / "r.csv")], ["backtest", "--horizon-years", "12"]):
        code, _, err = invoke(*command, "--data", str(subset), "--as-of", "2026-07-01")
        assert code == 1
        assert "晚于今天（2026-06-30）" in err and "after today (2026-06-30)" in err
    assert not (tmp_path / "r.csv").exists()


def test_output_paths(tmp_path: Path, subset: Path) -> None:
    options = ["--data", str(subset), "--as-of", "2012-10-01"]
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, _, err = invoke("rank", *options, "--out", str(tmp_path / "folder"))
    assert code == 1 and "这是一个文件夹" in err and "it is a folder" in err
    blocked = str(tmp_path / "file" / "m.json")
    code, _, err = invoke("train", *options, "--horizon-years", "12", "--out", blocked)
    assert code == 1 and "是文件而不是文件夹" in err and "is a file, not a folder" in err
    assert "Traceback" not in err
    # missing folders are created; the ranking replaces an older file whole
    ranking = tmp_path / "new" / "deeper" / "r.csv"
    ranking.parent.mkdir(parents=True)
    ranking.write_text("old\n", encoding="utf-8")
    code, _, err = invoke("rank", *options, "--out", str(ranking))
    assert code == 0, err
    assert ranking.read_text(encoding="utf-8").startswith("company_id,score,rank,reasons\n")
    assert [p.name for p in ranking.parent.iterdir()] == ["r.csv"]
    # a name that reads like a Rich style tag is printed as it is, not parsed
    tagged = tmp_path / "x[/bold].csv"
    code, out, err = invoke("rank", *options, "--out", str(tagged))
    assert code == 0, err
    assert "x[/bold].csv" in out.replace("\n", "") and tagged.is_file()
