"""Bad command-line input found by fuzzing the CLIs: each gives a clear message and a non-zero exit, never a
traceback, and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import Engine, func, select

from factories import cli
from qilin.common.validation import MAX_SEED
from qilin.demo.service import MAX_ENTERPRISES
from qilin.registry.models import Enterprise


def _refused(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a traceback
    return result.output


def _never(*args: Any, **kwargs: Any) -> None:
    pytest.fail("the refused command went on to do its work")


def _enterprises(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Enterprise)) or 0


# ---- empty paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["export", "--out", ""], ["demo", "generate", "--enterprises", "5", "--out", ""]],
    ids=["export", "demo-generate"],
)
def test_an_empty_out_path_is_refused(
    args: list[str], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # Path("") is the current folder: without the check, files land here
    output = _refused(cli(*args))
    assert "输出路径为空 / the output path is empty" in output
    assert list(tmp_path.iterdir()) == []


def test_an_empty_import_path_is_refused(
    db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "companies.csv").write_text("id,name,country\nus-x,X Inc,US\n", encoding="utf-8")
    output = _refused(cli("import", ""))
    assert "路径为空" in output and "an empty path" in output
    assert _enterprises(engine) == 0


# ---- output folders that cannot be written -------------------------------------------------------------


def _bad_outs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """--out values that cannot be written, and the English reason each must give."""
    afile = tmp_path / "afile"
    afile.write_text("keep me\n", encoding="utf-8")
    return {
        "existing file": (afile, f"{afile} is a file, not a folder"),
        "under a file": (afile / "x", f"{afile} is a file, not a folder"),
        "name too long": (tmp_path / ("a" * 300), "file name too long"),
    }


@pytest.mark.parametrize("command", ["export", "demo generate"])
def test_an_unwritable_out_folder_is_refused_with_a_message(
    command: str, db_url: str, tmp_path: Path
) -> None:
    for out, reason in _bad_outs(tmp_path).values():
        output = _refused(_run(command, out))
        assert "无法写入" in output and reason in output, output
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def _run(command: str, out: Path) -> Result:
    if command == "export":
        return cli("export", "--out", out)
    return cli("demo", "generate", "--enterprises", "5", "--out", out)


# ---- bounds --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", str(MAX_SEED + 1)])
def test_demo_generate_seed_out_of_range_is_refused(
    seed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qilin.demo.cli.generate_package", _never)
    output = _refused(cli("demo", "generate", "--out", tmp_path / "pkg", "--seed", seed), code=2)
    assert "--seed" in output
    assert not (tmp_path / "pkg").exists()


@pytest.mark.parametrize("seed", ["-1", str(MAX_SEED + 1)])
def test_demo_seed_out_of_range_is_refused(seed: str, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qilin.demo.cli.build_demo", _never)
    assert "--seed" in _refused(cli("demo", "--seed", seed), code=2)


def test_demo_generate_accepts_the_largest_seed(tmp_path: Path) -> None:
    result = cli("demo", "generate", "--no-real", "--enterprises", "3", "--seed", MAX_SEED, "--out", tmp_path)
    assert result.exit_code == 0, result.output


def test_demo_enterprises_above_the_maximum_are_refused(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qilin.demo.cli.build_demo", _never)
    monkeypatch.setattr("qilin.demo.cli.generate_package", _never)
    too_many = str(MAX_ENTERPRISES + 1)
    assert "--enterprises" in _refused(cli("demo", "--enterprises", too_many), code=2)
    generate = cli("demo", "generate", "--enterprises", too_many, "--out", tmp_path / "pkg")
    assert "--enterprises" in _refused(generate, code=2)
    assert f"{MAX_ENTERPRISES:,}" in cli("demo", "--help").output


# ---- text from the data that reads like Rich markup ----------------------------------------------------


def test_the_summary_prints_cities_and_paths_as_they_are(db_url: str, tmp_path: Path) -> None:
    from factories import overseas, write_package

    package = write_package(tmp_path / "pkg", companies=[overseas(city="Evil[/bold]")])
    imported = cli("import", package)
    assert imported.exit_code == 0, imported.output
    summary = cli("summary")
    assert summary.exit_code == 0 and "Evil[/bold]" in summary.output, summary.output
    out = tmp_path / "out[/bold]"
    exported = cli("export", "--out", out)
    assert exported.exit_code == 0 and (out / "companies.csv").is_file(), exported.output


# ---- usage errors: click's English with Chinese before it ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "chinese"),
    [
        (["discover", "rank"], "缺少参数 '--as-of' / Missing option '--as-of'."),
        (["demo", "--seed", "-1"], "参数 '--seed' 的值无效：不能小于 0 / Invalid value for '--seed'"),
        (["discover", "train", "--horizon-years", "abc"], "参数 '--horizon-years' 的值无效：应为整数 /"),
        (["tiers", "explain", "X", "--as-of", "2024-01-01", "--lang", "fr"], "参数 '--lang' 的值无效 / Inv"),
        (["discover", "rank", "--bogus"], "没有这个选项：--bogus / No such option: --bogus"),
        (["--bogus"], "没有这个选项：--bogus / No such option: --bogus"),
        (["tiers", "nosuch"], "没有这个命令：'nosuch' / No such command 'nosuch'."),
    ],
    ids=["missing", "range", "integer", "choice", "option", "root-option", "command"],
)
def test_usage_errors_are_told_in_chinese_too(args: list[str], chinese: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    text = " ".join(line.strip("│ ") for line in result.output.splitlines())  # the panel wraps lines
    assert " ".join(chinese.split()) in " ".join(text.split()), result.output


def test_a_bilingual_message_of_ours_is_not_translated_twice() -> None:
    result = cli("tiers", "evaluate", "--as-of", "2024-13-01")
    assert result.exit_code == 2
    assert "日期应为 YYYY-MM-DD / dates are YYYY-MM-DD" in result.output
    assert "的值无效" not in result.output


def test_serve_on_a_port_in_use_says_so_in_both_languages(db_url: str) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        output = _refused(cli("serve", "--port", str(port)), code=2)
    assert f"无法在 127.0.0.1:{port} 上提供服务：端口已被占用" in output
    assert f"cannot serve on 127.0.0.1:{port}: the port is in use" in output
