"""Check the links of a built HTML book.

Internal links (relative paths and #anchors) must resolve to a file of the
build, and an anchor to an id in that file: any that do not are errors.
External links (http, https, mailto) are listed but not fetched, since the
book must build offline; `jupyter-book build book/ --builder linkcheck`
checks them where the network is available.

    python -m fmriemo.book.linkcheck book/_build/html
"""
from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["check", "main"]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and tag in ("a", "img", "link", "script", "iframe"):
                self.links.append(a[key])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(errors="replace"))
    return p


def check(root) -> tuple[list[str], list[str]]:
    """The links of a built book.

    Parameters
    ----------
    root : str or path
        The built book.

    Returns
    -------
    broken : list of str
        Broken internal links, as ``'page: link (reason)'``.
    external : list of str
        External links (not followed here).
    """
    root = Path(root)
    pages = sorted(p for p in root.rglob("*.html") if "_static" not in p.relative_to(root).parts)
    if not pages:
        raise FileNotFoundError(f"{root}: no HTML pages (build the book first)")
    cache: dict[Path, _Links] = {}

    def parsed(path: Path) -> _Links:  # each page parsed once (the API page alone has ~900 #anchors)
        if path not in cache:
            cache[path] = _parse(path)
        return cache[path]

    broken, external = [], set()
    for page in pages:
        for link in parsed(page).links:
            u = urlsplit(link)
            if u.scheme in ("http", "https", "mailto", "data", "javascript") or link.startswith("//"):
                if u.scheme in ("http", "https"):
                    external.add(link)
                continue
            target = page if not u.path else (page.parent / unquote(u.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(root)}: {link} (no such file)")
                continue
            if u.fragment and target.suffix == ".html":
                ids = parsed(target).ids
                if unquote(u.fragment) not in ids:
                    broken.append(f"{page.relative_to(root)}: {link} (no anchor #{u.fragment})")
    return broken, sorted(external)


def main(argv=None) -> int:
    """Command line: check the links of the built book.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments; None: ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 when none is broken.
    """
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "book/_build/html")
    broken, external = check(root)
    print(f"{root}: {len(external)} external links (not fetched offline)")
    for b in broken:
        print(f"BROKEN {b}")
    print(f"{len(broken)} broken internal links")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
