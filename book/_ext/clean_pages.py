"""Two console errors that every page of a Jupyter Book 1 build shows in a browser, removed:

* sphinx-thebe 0.3 registers its inline configuration script once per reading pass, so a page
  that declares ``const THEBE_JS_URL`` twice raises "Identifier has already been declared";
  identical inline scripts in a page's head are kept once (after the build: the second copy
  comes from a page-context handler that runs after any an extension could add).
* pydata-sphinx-theme logs "Got invalid theme mode" on a first visit when the theme has no
  default mode; the book sets one (``auto``: follow the reader's system setting).

The browser test (fmriemo.book.browser, tests/book/test_chapters.py) fails if either comes back.
"""
from pathlib import Path


def _dedupe_inline_scripts(html: str) -> str:
    """``html`` with every repeated identical inline ``<script>...</script>`` line of its head removed."""
    head_end = html.find("</head>")
    if head_end < 0:
        return html
    seen, lines = set(), []
    for line in html[:head_end].split("\n"):
        tag = line.strip()
        if tag.startswith("<script>") and tag.endswith("</script>"):
            if tag in seen:
                continue
            seen.add(tag)
        lines.append(line)
    return "\n".join(lines) + html[head_end:]


def _dedupe_pages(app, exception):
    # after the build: the duplicates are added by page-context handlers that run after any other
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        clean = _dedupe_inline_scripts(text)
        if clean != text:
            page.write_text(clean, encoding="utf-8")


def _default_mode(app, config):
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")  # the theme reads it from the page context
    config.html_context = context


def setup(app):
    app.connect("config-inited", _default_mode)
    app.connect("build-finished", _dedupe_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
