"""Under the title of every chapter page: a download link for its notebook, a
one-click link to run it on Binder or open it in Colab, the one line that re-runs it with
papermill and other parameters, and download links for the chapter's results
(`chapters/results/<chapter>.json` and `.csv`, written by the executed
chapter; see fmriemo/results.py). The verdict page links every chapter's
results. The results folder is copied into the HTML output; a chapter without
results is a build warning (an error under -W).

The repository is taken from $FMRIEMO_REPOSITORY_URL (the book workflow sets
it from the GitHub repository it runs in), else from `fmriemo_repository_url`
in _config.yml, else from the checkout's `origin` remote when that is on
GitHub. With none of them (a clone from elsewhere) the page says so where the
Binder link would be, and the build log says how to set it. The theme's
repository and issue buttons come from the same URL.
"""
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util import logging


def repository_url(srcdir, configured: str = "") -> str:
    from fmriemo.book.build import repository_url as _url
    return _url(configured, srcdir)


def _links(app, doctree):
    docname = app.env.docname
    if not docname.startswith("chapters/"):
        return
    stem = docname.split("/", 1)[1]
    para = nodes.paragraph(classes=["chapter-links"])
    para += nodes.strong(text="Run this chapter yourself: ")
    para += nodes.reference(text="download the notebook (.ipynb)", refuri=f"../_sources/chapters/{stem}.ipynb")
    repo = app.config.fmriemo_repository_url
    if repo:
        owner_repo = repo.split("github.com/", 1)[1]
        binder = (f"https://mybinder.org/v2/gh/{owner_repo}/{app.config.fmriemo_branch}"
                  f"?urlpath=lab/tree/notebooks/{stem}.py")
        para += nodes.Text(" · ")
        para += nodes.reference(text="run it on Binder", refuri=binder)
        para += nodes.Text(" · ")
        colab = (f"https://colab.research.google.com/github/{owner_repo}/blob/"
                 f"{app.config.fmriemo_notebooks_branch}/{stem}.ipynb")
        para += nodes.reference(text="open it in Colab", refuri=colab)
        para += nodes.Text(" · ")
        para += nodes.reference(text="source", refuri=f"{repo}/blob/{app.config.fmriemo_branch}/notebooks/{stem}.py")
    else:
        para += nodes.Text(" · run it on Binder from the online edition (this build does not know the public "
                           "repository: set ")
        para += nodes.literal(text="fmriemo_repository_url")
        para += nodes.Text(" in _config.yml)")
    para += nodes.Text(". With other parameters: ")
    para += nodes.literal(text=f"jupytext --to ipynb -o {stem}.ipynb notebooks/{stem}.py && "
                               f"papermill {stem}.ipynb out.ipynb -p seed 1 -p profile quick")
    para += _results_links(app, stem)
    from fmriemo.book.build import chapter_time_text
    timing = chapter_time_text(stem)
    if timing:
        para += nodes.Text(" " + timing)
    sections = list(doctree.findall(nodes.section))
    if sections and sections[0].children and isinstance(sections[0][0], nodes.title):
        sections[0].insert(1, para)
    else:
        doctree.insert(0, para)


def _results_links(app, stem) -> list:
    folder = Path(app.srcdir) / "chapters" / "results"
    stems = (sorted(p.stem for p in folder.glob("[0-9][0-9]_*.json") if p.stem != stem) + [stem]
             if stem.startswith("10_") else [stem])
    out = [nodes.Text(" Results of this chapter: " if len(stems) == 1 else " Results of every chapter: ")]
    for i, s in enumerate(stems):
        if not (folder / f"{s}.json").is_file():
            logging.getLogger(__name__).warning(f"chapter_links: no results file for {s} ({folder}/{s}.json); "
                                                f"re-execute the chapter", location=f"chapters/{stem}")
            continue
        out.append(nodes.Text(("; " if i else "") + (f"{s} " if len(stems) > 1 else "")))
        out.append(nodes.reference(text="JSON", refuri=f"results/{s}.json"))
        out.append(nodes.Text(", "))
        out.append(nodes.reference(text="CSV", refuri=f"results/{s}.csv"))
    out.append(nodes.Text("."))
    return out


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
