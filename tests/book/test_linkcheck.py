"""Checking a built book's links offline: internal files and anchors must resolve, external ones are listed."""
import pytest

from fmriemo.book.linkcheck import check, main


def test_broken_files_and_anchors_are_found_and_external_links_listed(tmp_path, capsys):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "a.html").write_text('<h1 id="top">A</h1><a href="../index.html#intro">home</a>'
                                                  '<a href="b.html">missing</a><a href="#nowhere">x</a>')
    (tmp_path / "index.html").write_text('<p id="intro"></p><a href="chapters/a.html#top">a</a>'
                                         '<a href="https://mybinder.org/x">binder</a><a href="mailto:x@y">mail</a>')
    broken, external = check(tmp_path)
    assert sorted(broken) == ["chapters/a.html: #nowhere (no anchor #nowhere)",
                              "chapters/a.html: b.html (no such file)"]
    assert external == ["https://mybinder.org/x"]
    assert main([str(tmp_path)]) == 1 and "2 broken internal links" in capsys.readouterr().out
    (tmp_path / "chapters" / "a.html").write_text('<h1 id="top">A</h1>')
    assert main([str(tmp_path)]) == 0


def test_an_empty_folder_is_not_a_book(tmp_path):
    with pytest.raises(FileNotFoundError, match="no HTML pages"):
        check(tmp_path)


def test_each_page_is_parsed_once_however_many_anchors_point_into_it(tmp_path, monkeypatch):
    # the API page has ~900 #anchors into itself; parsing its 0.5 MB once per anchor took 11 minutes
    from fmriemo.book import linkcheck
    anchors = "".join(f'<p id="a{i}"></p><a href="#a{i}">x</a><a href="other.html#b{i}">y</a>' for i in range(50))
    (tmp_path / "api.html").write_text(anchors)
    (tmp_path / "other.html").write_text("".join(f'<p id="b{i}"></p>' for i in range(50)))
    parsed = []
    real = linkcheck._parse
    monkeypatch.setattr(linkcheck, "_parse", lambda p: parsed.append(p.name) or real(p))
    assert check(tmp_path) == ([], [])
    assert sorted(parsed) == ["api.html", "other.html"]
