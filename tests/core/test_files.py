"""Writing files safely: outputs checked before the work, atomic writes with the umask's permissions."""
import os

import pytest

from fmriemo.core.errors import DataError
from fmriemo.core.files import atomic_write_text, check_output_file, check_writable_dir


def test_atomic_write_follows_the_umask_and_leaves_nothing_behind(tmp_path):
    old = os.umask(0o022)
    try:
        f = atomic_write_text(tmp_path / "a.txt", "one")
        assert f.read_text() == "one" and f.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        atomic_write_text(f, "two")
        assert f.read_text() == "two" and f.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_failed_write_removes_its_temporary_file(tmp_path):
    with pytest.raises(TypeError):
        atomic_write_text(tmp_path / "a.txt", 12)  # not text: nothing written, nothing left
    assert list(tmp_path.iterdir()) == []


def test_output_checks_name_what_is_wrong(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        check_output_file(tmp_path / "folder")
    (tmp_path / "x.csv").write_text("keep")
    with pytest.raises(DataError, match="file exists .*--force"):
        check_output_file(tmp_path / "x.csv")
    assert check_output_file(tmp_path / "x.csv", force=True) == tmp_path / "x.csv"
    with pytest.raises(DataError, match="is a file, so the folder"):
        check_writable_dir(tmp_path / "x.csv" / "sub")
    assert check_writable_dir(tmp_path / "new" / "deeper").is_dir()
    assert (tmp_path / "x.csv").read_text() == "keep"
