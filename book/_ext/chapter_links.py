"""In the margin of every chapter page, one compact block: a download link for its
notebook, a one-click link to run it on Binder or open it in Colab, the line that re-runs
it with papermill and other parameters, download links for the chapter's results
(`chapters/results/<chapter>.json` and `.csv`, written by the executed chapter; see
fmriemo/book/results.py) and how long it took to execute. The verdict page links every
chapter's results. The results folder is copied into the HTML output; a chapter without
results is a build warning (an error under -W).

The repository is taken from $FMRIEMO_REPOSITORY_URL (the book workflow sets
it from the GitHub repository it runs in), else from `fmriemo_repository_url`
in _config.yml, else from the checkout's `origin` remote when that is on
GitHub. With none of them (a clone from elsewhere) the page says so where the
Binder link would be, and the build log says how to set it. The theme's
repository and issue buttons come from the same URL.
"""
import html
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

from fmriemo.book import build
from fmriemo.book.build import chapter_time_text


def repository_url(srcdir, configured: str = "") -> str:
    return build.repository_url(configured, srcdir)


def _a(text: str, uri: str) -> str:
    return f'<a class="reference external" href="{html.escape(uri, quote=True)}">{html.escape(text)}</a>'


def _links(app, doctree):
    docname = app.env.docname
    if not docname.startswith("chapters/"):
        return
    stem = docname.split("/", 1)[1]
    run = [_a("notebook (.ipynb)", f"../_sources/chapters/{stem}.ipynb")]
    repo = app.config.fmriemo_repository_url
    if repo:
        owner_repo = repo.split("github.com/", 1)[1]
        run += [_a("Binder", f"https://mybinder.org/v2/gh/{owner_repo}/{app.config.fmriemo_branch}"
                             f"?urlpath=lab/tree/notebooks/{stem}.py"),
                _a("Colab", f"https://colab.research.google.com/github/{owner_repo}/blob/"
                            f"{app.config.fmriemo_notebooks_branch}/{stem}.ipynb"),
                _a("source", f"{repo}/blob/{app.config.fmriemo_branch}/notebooks/{stem}.py")]
    else:
        run.append("Binder and Colab links need the public repository (set <code>fmriemo_repository_url</code> in "
                   "_config.yml)")
    lines = [f"<p>Run it: {' · '.join(run)}. With other parameters: <code>jupytext --to ipynb -o {stem}.ipynb "
             f"notebooks/{stem}.py &amp;&amp; papermill {stem}.ipynb out.ipynb -p seed 1 -p profile quick</code>.</p>",
             f"<p>{_results_links(app, stem)}</p>"]
    timing = chapter_time_text(stem)
    if timing:
        lines.append(f"<p>{html.escape(timing)}</p>")
    # one compact line under the title (the reader meets the chapter first), the rest when opened
    block = ('<details class="chapter-plumbing"><summary>Run this chapter, download its results'
             + (", how long it takes" if timing else "") + "</summary>" + "".join(lines) + "</details>")
    node = nodes.raw("", block, format="html")
    sections = list(doctree.findall(nodes.section))
    if sections and sections[0].children and isinstance(sections[0][0], nodes.title):
        sections[0].insert(1, node)
    else:
        doctree.insert(0, node)


def _results_links(app, stem) -> str:
    folder = Path(app.srcdir) / "chapters" / "results"
    stems = (sorted(p.stem for p in folder.glob("[0-9][0-9]_*.json") if p.stem != stem) + [stem]
             if stem.startswith("10_") else [stem])
    out = []
    for s in stems:
        if not (folder / f"{s}.json").is_file():
            logging.getLogger(__name__).warning(f"chapter_links: no results file for {s} ({folder}/{s}.json); "
                                                f"re-execute the chapter", location=f"chapters/{stem}")
            continue
        out.append((f"{s} " if len(stems) > 1 else "") + _a("JSON", f"results/{s}.json") + ", "
                   + _a("CSV", f"results/{s}.csv"))
    return ("Results of this chapter: " if len(stems) == 1 else "Results of every chapter: ") + "; ".join(out) + "."


def _copy_results(app, exception):
    """The chapters' results beside their pages in the HTML output (the links above point there)."""
    src = Path(app.srcdir) / "chapters" / "results"
    if exception is None and app.builder.format == "html" and src.is_dir():
        shutil.copytree(src, Path(app.outdir) / "chapters" / "results", dirs_exist_ok=True)


def theme_repository(options: dict, url: str, branch: str) -> dict:
    """The theme's repository settings from the same URL as the chapter links: the repository and
    issue buttons for a known repository; none (rather than Jupyter Book's own repository, its
    default) when the build knows no repository."""
    options = dict(options or {})
    options.update({"repository_url": url, "repository_branch": branch, "path_to_docs": "book",
                    "use_repository_button": bool(url), "use_issues_button": bool(url)})
    return options


def _config(app, config):
    config.fmriemo_repository_url = repository_url(app.srcdir, config.fmriemo_repository_url)
    config.html_theme_options = theme_repository(config.html_theme_options, config.fmriemo_repository_url,
                                                 config.fmriemo_branch)
    if not config.fmriemo_repository_url:
        logging.getLogger(__name__).info(
            "chapter_links: no GitHub repository known (FMRIEMO_REPOSITORY_URL, fmriemo_repository_url in "
            "_config.yml, or a GitHub origin remote); chapter pages get no Binder link")


def setup(app):
    app.add_config_value("fmriemo_repository_url", "", "env")
    app.add_config_value("fmriemo_branch", "main", "env")
    # the branch the book workflow publishes the chapters to as notebooks (`fmriemo notebooks`), for Colab
    app.add_config_value("fmriemo_notebooks_branch", "notebooks", "env")
    app.connect("config-inited", _config)
    app.connect("doctree-read", _links)
    app.connect("build-finished", _copy_results)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
