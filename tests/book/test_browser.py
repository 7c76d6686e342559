"""The browser check: its bookkeeping, and its layout checks on pages made to fail them (the check of the
built book runs in test_chapters.py)."""
import os
import shutil
from pathlib import Path

import pytest

from fmriemo.book.browser import INSTALL_HINT, PageReport, book_pages, check_book, chromium_path


def test_a_page_report_lists_every_kind_of_problem():
    assert PageReport("a.html", interactive_views=1, canvases=1, glued=3).problems == []
    rep = PageReport("a.html", errors=["TypeError: x"], broken_images=["fig.png"], interactive_views=2, canvases=1,
                     glued_hidden=["<span>"], widgets=1)
    assert rep.problems == ["JavaScript: TypeError: x", "image not loaded: fig.png",
                            "2 interactive view(s) but 1 canvas(es) drawn", "glued value not visible: '<span>'",
                            "1 widget(s) that cannot render in a static page"]


def test_the_books_pages_leave_out_sphinxs_own_files(tmp_path):
    for rel in ("index.html", "chapters/01.html", "_static/x.html", "_sources/y.html", "screenshots/z.html"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("<html></html>")
    assert book_pages(tmp_path) == ["chapters/01.html", "index.html"]


def test_the_browser_is_the_one_configured(tmp_path, monkeypatch):
    fake = tmp_path / "chrome"
    fake.write_text("")
    monkeypatch.setenv("FMRIEMO_CHROMIUM", str(fake))
    assert chromium_path() == str(fake)
    monkeypatch.setenv("FMRIEMO_CHROMIUM", str(tmp_path / "absent"))
    assert chromium_path() is None  # configured but missing: no silent fallback


def test_the_check_finds_cut_off_tables_unpadded_cells_and_bold_sentences(tmp_path):
    """A page made to fail every layout check, and the same page with the book's stylesheet, in the real
    browser: the checks find each fault and pass once the stylesheet fixes it."""
    if not chromium_path():
        if os.environ.get("FMRIEMO_REQUIRE_BROWSER"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    wide = "".join(f"<td>{i / 7:.2f}</td>" for i in range(60))
    sentence = "A sentence the chapter glued into its prose, long enough to be a whole paragraph of text."
    body = (f'<article><div class="cell_output"><table><tr>{wide}</tr></table></div>'
            f'<p>Text <span class="pasted-text">{sentence}</span></p></article>')
    style = "table{border-collapse:collapse} td{padding:0} span.pasted-text{font-weight:bold}"
    (tmp_path / "bad.html").write_text(f"<html><head><style>{style}</style></head><body>{body}</body></html>")
    css = Path(__file__).resolve().parents[2] / "book" / "_static" / "fmriemo.css"
    shutil.copy(css, tmp_path / "fmriemo.css")
    (tmp_path / "good.html").write_text(f'<html><head><style>{style}</style><link rel="stylesheet" '
                                        f'href="fmriemo.css"></head><body>{body}</body></html>')
    bad, good = check_book(tmp_path, pages=["bad.html", "good.html"])
    assert bad.clipped and bad.unpadded_tables == 1 and bad.bold_glued == [sentence[:60]]
    assert good.problems == [], good.problems
