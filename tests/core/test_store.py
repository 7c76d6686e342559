"""The content-addressed store: atomic entries with a manifest, damage found and reported once, and the
one place that decides where the store lives."""
from pathlib import Path

import pytest

from fmriemo.core import store


def _fill(tmp: Path) -> None:
    (tmp / "a.txt").write_text("alpha")
    (tmp / "sub").mkdir()
    (tmp / "sub" / "b.bin").write_bytes(b"\x00\x01")


def test_entry_round_trip_and_manifest(tmp_path):
    entry = store.write_entry(tmp_path / "key", _fill)
    assert sorted(p.name for p in entry.rglob("*")) == [".manifest.json", "a.txt", "b.bin", "sub"]
    assert store.entry_is_intact(entry)
    assert store.read_entry(entry, lambda f: (f / "a.txt").read_text()) == "alpha"
    assert [p.name for p in tmp_path.iterdir()] == ["key"]  # no temporary folder left


@pytest.mark.parametrize("damage", ["changed", "missing", "no manifest", "empty manifest"])
def test_a_damaged_entry_is_reported_once_and_removed(tmp_path, capsys, damage):
    entry = store.write_entry(tmp_path / "key", _fill)
    if damage == "changed":
        (entry / "sub" / "b.bin").write_bytes(b"\x00\x02")
    elif damage == "missing":
        (entry / "a.txt").unlink()
    elif damage == "no manifest":
        (entry / store.MANIFEST).unlink()
    else:
        (entry / store.MANIFEST).write_text("{}")
    assert not store.entry_is_intact(entry, "thing", "making it again")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"fmriemo: thing {entry} is damaged (") and "making it again" in err[0]
    assert not entry.exists()


def test_an_entry_its_reader_cannot_use_is_removed(tmp_path, capsys):
    entry = store.write_entry(tmp_path / "key", _fill)

    def read(f):
        raise ValueError("wrong number of predictions")
    assert store.read_entry(entry, read, "fine-tuning", "fine-tuning again") is None
    assert "wrong number of predictions" in capsys.readouterr().err and not entry.exists()


def test_cache_root_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv(store.CACHE_ENV, raising=False)
    assert store.cache_root() == Path.home() / ".cache" / "fmriemo"
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path / "env"))
    assert store.cache_root() == tmp_path / "env" and store.cache_root("") == tmp_path / "env"
    assert store.cache_root(tmp_path / "given") == tmp_path / "given"


def test_source_hash_follows_the_code(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    before = store.source_hash(tmp_path / "pkg")
    (tmp_path / "pkg" / "notes.txt").write_text("not code")
    assert store.source_hash(tmp_path / "pkg") == before
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert store.source_hash(tmp_path / "pkg") != before
