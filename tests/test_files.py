"""Atomic output files (qilin.common.files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qilin.common.files import (
    OutputError,
    output_path,
    prepare_folder,
    prepare_output,
    write_atomically,
    write_folder_atomically,
)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_creates_folders_with_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.csv"
    write_atomically(target, lambda t: t.write_text("x,y\n", encoding="utf-8"))
    assert target.read_text(encoding="utf-8") == "x,y\n"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()  # not mkstemp's 0600
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.csv"]


def test_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n", encoding="utf-8")

    def half(temporary: Path) -> None:
        temporary.write_text("new, half", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError) as caught:
        write_atomically(target, half)
    assert caught.value.zh == "磁盘空间不足" and caught.value.en == "no space left on the device"
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_an_error_of_the_writer_is_not_swallowed(tmp_path: Path) -> None:
    def broken(temporary: Path) -> None:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        write_atomically(tmp_path / "out.csv", broken)
    assert list(tmp_path.iterdir()) == []


def test_prepare_output_refusals(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(OutputError) as caught:
        prepare_output(tmp_path / "dir")
    assert caught.value.key == "output.is_dir" and caught.value.zh == "这是一个文件夹"
    with pytest.raises(OutputError) as caught:
        prepare_output(tmp_path / "file" / "sub" / "out.csv")
    assert caught.value.key == "output.not_dir"
    assert caught.value.en == f"{tmp_path / 'file'} is a file, not a folder"
    assert not (tmp_path / "file" / "sub").exists()
    with pytest.raises(OutputError) as caught:  # too long even to look up: once a raw OSError
        prepare_output(tmp_path / ("a" * 300 + ".csv"))
    assert caught.value.key == "output.name_too_long"


def test_an_empty_output_path_is_refused_not_the_current_folder() -> None:
    with pytest.raises(OutputError) as caught:
        output_path("")
    assert caught.value.key == "output.empty" and caught.value.en == "the output path is empty"
    assert output_path("out") == Path("out")


def test_prepare_folder_refusals(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    for folder, key in (
        (tmp_path / "file", "output.not_dir"),
        (tmp_path / "file" / "x", "output.not_dir"),
        (tmp_path / ("a" * 300), "output.name_too_long"),  # too long even to look up: once a raw OSError
    ):
        with pytest.raises(OutputError) as caught:
            prepare_folder(folder, ["a.csv", "b.csv"])
        assert caught.value.key == key, folder
    (tmp_path / "out" / "b.csv").mkdir(parents=True)
    with pytest.raises(OutputError) as caught:
        prepare_folder(tmp_path / "out", ["a.csv", "b.csv"])
    assert caught.value.key == "output.is_dir"


def test_folder_written_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with write_folder_atomically(out, ["a.csv", "b.csv"]) as staging:
        (staging / "a.csv").write_text("new a\n", encoding="utf-8")
        (staging / "b.csv").write_text("new b\n", encoding="utf-8")
        assert list(out.iterdir()) == [staging]  # nothing in place before the block ends
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == {
        "a.csv": "new a\n",
        "b.csv": "new b\n",
    }
    assert (out / "a.csv").stat().st_mode & 0o777 == 0o666 & ~_umask()

    with pytest.raises(ValueError, match="bug"), write_folder_atomically(out, ["a.csv", "b.csv"]) as staging:
        (staging / "a.csv").write_text("half", encoding="utf-8")
        raise ValueError("bug")
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv"]
    assert (out / "a.csv").read_text(encoding="utf-8") == "new a\n"

    with pytest.raises(OutputError) as caught, write_folder_atomically(out, ["a.csv"]):
        raise OSError(28, "No space left on device")
    assert caught.value.key == "output.no_space"
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv"]


def test_a_device_or_a_pipe_is_refused_not_replaced(tmp_path: Path) -> None:
    import os

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for path in (pipe, Path("/dev/null")):
        with pytest.raises(OutputError) as caught:
            prepare_output(path)
        assert caught.value.key == "output.not_file", path
    assert pipe.exists() and not pipe.is_file()
