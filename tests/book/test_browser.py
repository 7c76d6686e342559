"""The browser check's bookkeeping (the check itself runs on the built book in test_chapters.py)."""
from fmriemo.book.browser import PageReport, book_pages, chromium_path


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
