"""Under the title of every chapter page: a download link for its notebook, a
one-click link to run it on Binder, and the one line that re-runs it with
papermill and other parameters.

The repository is taken from $FMRIEMO_REPOSITORY_URL (the book workflow sets
it from the GitHub repository it runs in), else from `fmriemo_repository_url`
in _config.yml, else from the checkout's `origin` remote when that is on
GitHub. With none of them (a clone from elsewhere) the page says so where the
Binder link would be, and the build log says how to set it. The theme's
repository and issue buttons come from the same URL.
"""
import os
import re
import subprocess

from docutils import nodes
from sphinx.util import logging


def repository_url(srcdir, configured: str = "") -> str:
    url = os.environ.get("FMRIEMO_REPOSITORY_URL", "").strip() or configured.strip()
    if not url:
        try:
            url = subprocess.run(["git", "-C", str(srcdir), "remote", "get-url", "origin"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            url = ""
    m = re.match(r"^(?:https://github\.com/|git@github\.com:)([\w.-]+)/([\w.-]+?)(?:\.git)?/?$", url)
    return f"https://github.com/{m.group(1)}/{m.group(2)}" if m else ""


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
        para += nodes.reference(text="source", refuri=f"{repo}/blob/{app.config.fmriemo_branch}/notebooks/{stem}.py")
    else:
        para += nodes.Text(" · run it on Binder from the online edition (this build does not know the public "
                           "repository: set ")
        para += nodes.literal(text="fmriemo_repository_url")
        para += nodes.Text(" in _config.yml)")
    para += nodes.Text(". With other parameters: ")
    para += nodes.literal(text=f"jupytext --to ipynb -o {stem}.ipynb notebooks/{stem}.py && "
                               f"papermill {stem}.ipynb out.ipynb -p seed 1 -p profile quick")
    sections = list(doctree.findall(nodes.section))
    if sections and sections[0].children and isinstance(sections[0][0], nodes.title):
        sections[0].insert(1, para)
    else:
        doctree.insert(0, para)


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
    app.connect("config-inited", _config)
    app.connect("doctree-read", _links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
