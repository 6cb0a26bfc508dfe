"""``qilin discover``: a small train → rank → backtest run, and bad input answered with a bilingual message
and exit code 1 (never a traceback)."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
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


@pytest.mark.parametrize(
    ("args", "bound"),
    [
        (["rank", "--top", "0"], "不能小于 1"),  # every company's reasons were "无突出信号"
        (["rank", "--lang", "fr"], "'zh', 'en'"),  # reasons silently in English
        (["train", "--horizon-years", "99999999999"], "不能大于 100"),  # OverflowError
        (["train", "--horizon-years", "8000"], "不能大于 100"),  # year 10013 is out of range
        (["train", "--seed", "-1"], "不能小于 0"),  # numpy's ValueError
        (["train", "--seed", "4294967296"], "不能大于 4294967295"),
        (["train", "--n-estimators", "0"], "不能小于 1"),  # LightGBM's ValueError
        (["train", "--n-estimators", "99999999999"], "不能大于 10000"),  # ran for hours
        (["backtest", "--folds", "1"], "不能小于 2"),  # scikit-learn's ValueError
        (["backtest", "--n-boot", "-1"], "不能小于 0"),  # silently no intervals
    ],
)
def test_options_out_of_range_are_refused(tmp_path: Path, subset: Path, args: list[str], bound: str) -> None:
    command, *option = args
    needed = {
        "rank": ["--out", str(tmp_path / "r.csv")],
        "train": ["--horizon-years", "12", "--out", str(tmp_path / "m.json")],
        "backtest": ["--horizon-years", "12"],
    }[command]
    code, out, err = invoke(command, "--data", str(subset), "--as-of", "2012-10-01", *needed, *option)
    assert code == 2, out + err
    assert bound in err and "Invalid value" in err
    assert not list(tmp_path.iterdir())


def test_folds_beyond_the_positives_and_a_short_walk_forward_are_explained(subset: Path) -> None:
    options = ["--data", str(subset), "--horizon-years", "12", "--n-estimators", "5", "--n-boot", "0"]
    code, _, err = invoke("backtest", *options, "--as-of", "2012-10-01", "--folds", "1000")
    assert code == 1
    assert "1000 折交叉验证需要至少 1000 个正例" in err and "1000-fold cross-validation" in err
    assert "no positive labels" not in err
    code, out, err = invoke("backtest", *options, "--as-of", "1985-06-01", "--walk-forward")
    assert code == 1, out  # printed nothing and succeeded
    assert "前推检验需要" in err and "walk-forward needs at least two" in err and "leaves 1" in err


def test_out_on_a_pipe_or_device_is_refused(tmp_path: Path, subset: Path) -> None:
    """The atomic write renames a new file over the target: run as root, ``--out /dev/null`` replaced the
    device with a regular file (and a pipe with a file)."""
    pipe = tmp_path / "ranking.csv"
    os.mkfifo(pipe)
    code, _, err = invoke("rank", "--data", str(subset), "--as-of", "2012-10-01", "--out", str(pipe))
    assert code == 1
    assert "不是普通文件" in err and "not a regular file" in err
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def test_control_characters_from_a_package_are_printed_escaped(tmp_path: Path) -> None:
    """A note quotes ids from the files: an ESC there would recolour or clear the terminal."""
    package = write_chinese_package(tmp_path / "zj")
    rounds = package / "rounds.csv"
    rounds.write_text(
        rounds.read_text(encoding="utf-8") + "ghost\x1b[31m,2020-01-01,A轮,1000万,CNY\n", "utf-8"
    )
    code, _, err = invoke(
        "rank", "--data", str(package), "--as-of", "2023-12-31", "--out", str(tmp_path / "r")
    )
    assert code == 0, err
    assert "\x1b" not in err and "ghost\\x1b[31m" in err
