"""The built book opened in a real browser: headless Chromium (the system's, driven by
Playwright through its executable path; nothing is downloaded) loads every page from
a local HTTP server and reports, per page, JavaScript errors, images that did not
load, interactive brain views without a drawing canvas, glued values that are empty or
not visible, glued sentences set in bold, tables or code cut off at the right, tables
whose cells have no padding, and takes a full-page screenshot.

``python -m fmriemo.book.browser book/_build/html`` checks a build (``make browse``);
the test suite runs the same check on the quick-profile book it builds.
Requests to other hosts are refused (the book must work offline) and listed
separately: a page that needs one to work shows it as a missing canvas or image.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["INSTALL_HINT", "chromium_path", "PageReport", "book_pages", "check_book", "main"]

INSTALL_HINT = ("headless Chromium not found: install Debian's package (apt-get install -y chromium, as root) "
                "or set FMRIEMO_CHROMIUM to a Chromium or Chrome executable")


def chromium_path() -> str | None:
    """The Chromium the browser checks drive (never a downloaded browser).

    Returns
    -------
    path : str or None
        ``$FMRIEMO_CHROMIUM``, else ``chromium`` / ``chromium-browser`` / ``google-chrome`` on the PATH;
        None when there is none.
    """
    configured = os.environ.get("FMRIEMO_CHROMIUM", "").strip()
    if configured:
        return configured if Path(configured).is_file() else None
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@dataclass
class PageReport:
    """What the browser found on one page of the built book.

    Parameters
    ----------
    page : str
        The page, relative to the book's root.
    errors : list, default=[]
        JavaScript exceptions and console errors.
    broken_images : list, default=[]
        Images that did not load.
    interactive_views : int, default=0
        nilearn 3-D views (iframes) on the page.
    canvases : int, default=0
        Canvases drawn inside those views.
    glued : int, default=0
        Glued values in the prose.
    glued_hidden : list, default=[]
        Glued values with no visible text.
    widgets : int, default=0
        "Loading widget..." placeholders (state not saved).
    clipped : list, default=[]
        Tables or code wider than the page and not scrollable.
    unpadded_tables : int, default=0
        Tables whose cells have no horizontal padding.
    bold_glued : list, default=[]
        Glued sentences set in bold by the theme.
    offline : list, default=[]
        Refused requests to other hosts.
    screenshot : str, default=""
        The page's screenshot.
    """
    page: str
    errors: list = field(default_factory=list)           # JavaScript exceptions and console errors
    broken_images: list = field(default_factory=list)
    interactive_views: int = 0                             # nilearn 3-D views (iframes) on the page
    canvases: int = 0                                      # canvases drawn inside those views
    glued: int = 0                                         # glued values in the prose
    glued_hidden: list = field(default_factory=list)       # glued values with no visible text
    widgets: int = 0                                       # "Loading widget..." placeholders (state not saved)
    clipped: list = field(default_factory=list)            # tables or code wider than the page and not scrollable
    unpadded_tables: int = 0                               # tables whose cells have no horizontal padding
    bold_glued: list = field(default_factory=list)         # glued sentences set in bold by the theme
    offline: list = field(default_factory=list)            # refused requests to other hosts
    screenshot: str = ""

    @property
    def problems(self) -> list[str]:
        out = [f"JavaScript: {e}" for e in self.errors] + [f"image not loaded: {i}" for i in self.broken_images]
        if self.interactive_views and self.canvases < self.interactive_views:
            out.append(f"{self.interactive_views} interactive view(s) but {self.canvases} canvas(es) drawn")
        out += [f"glued value not visible: {g!r}" for g in self.glued_hidden]
        if self.widgets:
            out.append(f"{self.widgets} widget(s) that cannot render in a static page")
        out += [f"cut off at the right: {c!r}" for c in self.clipped]
        if self.unpadded_tables:
            out.append(f"{self.unpadded_tables} table(s) whose numbers run together (cells without padding)")
        out += [f"glued sentence in bold: {g!r}" for g in self.bold_glued]
        return out


def book_pages(html_root: str | Path) -> list[str]:
    """The book's pages (not Sphinx's static files or sources).

    Parameters
    ----------
    html_root : str or path
        The built book.

    Returns
    -------
    pages : list of str
        Relative to ``html_root``.
    """
    root = Path(html_root)
    skip = {"_static", "_sources", "_images", "_modules", "_downloads", "reports", "screenshots"}
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.html") if not skip & set(p.relative_to(root).parts))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(root: Path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


_PAGE_STATE = """() => {
  const imgs = Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);
  // the page's content, not its tables of contents
  const main = document.querySelector('article') || document.body || document.documentElement;
  const glued = Array.from(main.querySelectorAll('span.pasted-text, div.pasted-text'));
  const hidden = glued.filter(g => !g.innerText.trim() || g.getBoundingClientRect().width === 0)
                      .map(g => g.outerHTML.slice(0, 80));
  const widgets = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length
                  + (document.body ? (document.body.innerText.match(/Loading widget/g) || []).length : 0);
  // a table or code block wider than the page's column is fine only inside something that scrolls
  const scrolls = el => {
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const edge = main.getBoundingClientRect().right;
  const clipped = Array.from(main.querySelectorAll('table, pre'))
    .filter(el => (el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > edge + 1) && !scrolls(el))
    .map(el => el.tagName.toLowerCase() + ': ' + (el.innerText || '').trim().slice(0, 60));
  const unpadded = Array.from(main.querySelectorAll('table')).filter(t => {
    const cell = t.querySelector('td');
    if (!cell) return false;
    const s = getComputedStyle(cell);
    return parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) < 2;
  }).length;
  const weight = el => parseInt(getComputedStyle(el).fontWeight, 10);
  const boldGlued = glued  // a long glued sentence in bold where the text around it is not
    .filter(g => g.innerText.trim().length > 60 && weight(g) >= 600 && weight(g.parentElement) < 600)
    .map(g => g.innerText.trim().slice(0, 60));
  return {imgs, glued: glued.length, hidden, widgets, clipped, unpadded, boldGlued};
}"""


def _router(base: str, rep: PageReport):
    """Serve the book's own files; refuse (and list) requests to any other host."""
    def route(r, request):
        if request.url.startswith((base, "data:", "about:", "blob:")):
            return r.continue_()
        rep.offline.append(request.url)
        return r.abort()
    return route


def _console(base: str, rep: PageReport):
    """Console errors, except the failed loads of the external requests refused above."""
    def on_message(m):
        url = (m.location or {}).get("url", "")
        if m.type == "error" and not (m.text.startswith("Failed to load resource") and not url.startswith(base)):
            rep.errors.append(f"{m.text} ({url})" if url else m.text)
    return on_message


def check_book(html_root: str | Path, screenshots: str | Path | None = None, executable: str | None = None,
               pages: list[str] | None = None, timeout_ms: int = 60000) -> list[PageReport]:
    """Open every page of a built book in headless Chromium.

    Parameters
    ----------
    html_root : str or path
        The built book.
    screenshots : str, path or None, default=None
        Where the screenshots go; None: ``html_root/screenshots``.
    executable : str or None, default=None
        The browser; None: :func:`chromium_path`.
    pages : list of str or None, default=None
        The pages to open; None: :func:`book_pages`.
    timeout_ms : int, default=60000
        How long a page may take to load.

    Returns
    -------
    reports : list of PageReport
        One per page.
    """
    from playwright.sync_api import sync_playwright  # deferred: a test extra, needed only to open pages

    root = Path(html_root)
    executable = executable or chromium_path()
    if not executable:
        raise FileNotFoundError(INSTALL_HINT)
    shots = Path(screenshots) if screenshots else root / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    server = _serve(root)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    reports = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, headless=True,
                                         args=["--no-sandbox", "--use-angle=swiftshader",
                                               "--enable-unsafe-swiftshader"])
            for rel in pages or book_pages(root):
                rep = PageReport(rel)
                page = browser.new_page(viewport={"width": 1280, "height": 900})

                page.route("**/*", _router(base, rep))
                page.on("pageerror", lambda e, rep=rep: rep.errors.append(str(e)))
                page.on("console", _console(base, rep))
                page.goto(base + rel, wait_until="load", timeout=timeout_ms)
                page.wait_for_timeout(500)
                state = page.evaluate(_PAGE_STATE)
                rep.broken_images, rep.glued, rep.glued_hidden = state["imgs"], state["glued"], state["hidden"]
                rep.widgets, rep.clipped, rep.unpadded_tables = state["widgets"], state["clipped"], state["unpadded"]
                rep.bold_glued = state["boldGlued"]
                views = [f for f in page.frames if f is not page.main_frame]
                rep.interactive_views = len(views)
                for frame in views:
                    try:
                        frame.wait_for_selector("canvas", timeout=timeout_ms)
                        rep.canvases += 1
                    except Exception:  # no canvas drawn in time: reported as a problem
                        pass
                shot = shots / (rel.replace("/", "__").removesuffix(".html") + ".png")
                page.screenshot(path=str(shot), full_page=True)
                rep.screenshot = str(shot)
                page.close()
                reports.append(rep)
            browser.close()
    finally:
        server.shutdown()
    return reports


def main(argv=None) -> int:
    """Command line: check the built book in the browser.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments; None: ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 when every check passes.
    """
    p = argparse.ArgumentParser(prog="python -m fmriemo.book.browser", description=__doc__.split("\n\n")[0])
    p.add_argument("html_root", nargs="?", default="book/_build/html")
    p.add_argument("--screenshots", default=None, help="folder for the screenshots (default: HTML_ROOT/screenshots)")
    a = p.parse_args(argv)
    try:
        reports = check_book(a.html_root, a.screenshots)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bad = 0
    for r in reports:
        status = "ok" if not r.problems else "PROBLEMS"
        print(f"{status:8s} {r.page}: {r.glued} glued values, {r.interactive_views} 3-D view(s), "
              f"{len(r.offline)} external request(s) refused")
        for problem in r.problems:
            print(f"         - {problem}")
        bad += bool(r.problems)
    shots = Path(reports[0].screenshot).parent if reports else "-"
    print(f"{len(reports)} pages, {bad} with problems; screenshots in {shots}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
