"""Building the book: the chapter sources and their execution with papermill (each opening with an
install cell for readers outside a checkout), tidying executed notebooks for a static site, reading
glued values and errors back, the record of what a build ran on, and the measured chapter times."""
from __future__ import annotations

import json
import os
import platform
import re
import string
import subprocess
from pathlib import Path

import nbformat

from .. import __version__
from ..core.errors import UsageError
from ..core.files import atomic_write_text, check_output_file, check_writable_dir
from ..data.source import DEFAULT_SURROGATE_SEED, data_name, open_dataset

__all__ = [
    "RESOURCES", "CHAPTER_MINUTES", "INSTALL_CELL", "chapter_minutes", "chapter_time_text",
    "chapter_times_table", "project_root", "chapter_sources", "CHAPTER_NEEDS", "chapter_waves",
    "repository_url", "github_url", "repository_branch", "install_spec", "install_cell", "chapter_notebook",
    "select_chapters", "export_notebooks", "WIDGET_MIME", "tidy_executed", "failed_notebook", "run_chapter",
    "QUIET_KERNEL", "read_glued", "notebook_errors", "build_record",
]

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
#: measured execution time of every chapter per profile (benchmarks/chapter_times.py writes it)
CHAPTER_MINUTES = RESOURCES / "chapter_minutes.json"
#: the first cell of every exported or executed chapter (:func:`install_cell`)
INSTALL_CELL = RESOURCES / "install_cell.py.tmpl"


def chapter_minutes() -> dict:
    """The measurement in :data:`CHAPTER_MINUTES`.

    Returns
    -------
    record : dict
        Machine, date, commit and ``minutes[profile][chapter]`` (empty when none was recorded).
    """
    try:
        return json.loads(CHAPTER_MINUTES.read_text())
    except FileNotFoundError:
        return {"minutes": {}}


def chapter_time_text(stem: str) -> str:
    """One sentence for a chapter's page: how long it took to execute in each measured profile.

    Parameters
    ----------
    stem : str
        The chapter's stem.

    Returns
    -------
    text : str
        "" for a chapter without a measurement.
    """
    rec = chapter_minutes()
    parts = [f"{rec['minutes'][p][stem]:.1f} min in the {p} profile" for p in ("quick", "full")
             if stem in rec["minutes"].get(p, {})]
    if not parts:
        return ""
    return (f"Executing it took {' and '.join(parts)} on a {rec['machine']} with an empty cache "
            f"(measured {rec['date']}, commit {rec['commit']}).")


def chapter_times_table() -> str:
    """The README's table of measured chapter times (a test keeps the README's copy equal to this).

    Returns
    -------
    table : str
        Markdown.
    """
    rec = chapter_minutes()
    profiles = [p for p in ("quick", "full") if rec["minutes"].get(p)]
    if not profiles:
        return "(no measurement recorded)"
    stems = sorted(set().union(*(rec["minutes"][p] for p in profiles)))
    lines = ["| chapter | " + " | ".join(f"{p} profile, minutes" for p in profiles) + " |",
             "|---|" + "---|" * len(profiles)]
    for s in stems:
        lines.append(f"| {s} | " + " | ".join(f"{rec['minutes'][p][s]:.1f}" if s in rec["minutes"][p] else "-"
                                               for p in profiles) + " |")
    lines.append("| **all** | " + " | ".join(
        f"**{sum(rec['minutes'][p].values()):.1f}**" if len(rec["minutes"][p]) == len(stems)
        else f"at least {sum(rec['minutes'][p].values()):.1f} ({len(rec['minutes'][p])} of {len(stems)} chapters "
             f"measured)" for p in profiles) + " |")
    pace = "".join(f"; the paper models trained at {p['ms_per_member_epoch']:.1f} ms of wall clock per member-epoch "
                   f"in the {name} build ({p['member_epochs']:,} member-epochs in {p['minutes']:.1f} minutes"
                   + (f", torch's {p['kernels']['vector']} kernels on {p['kernels']['vendor']}"
                      if "kernels" in p else "") + ")"
                   for name, p in rec.get("pace", {}).items())
    return "\n".join(lines) + (f"\n\n({rec['machine']}, {rec['data']}, cache {rec['cache']}; measured "
                               f"{rec['date']} at commit {rec['commit']} with `benchmarks/chapter_times.py`{pace}.)")


def project_root() -> Path:
    """The repository's root folder (the parent of the package).

    Returns
    -------
    root : pathlib.Path
    """
    return Path(__file__).resolve().parents[2]


def chapter_sources(root: Path | None = None) -> list[Path]:
    """The chapter sources (``notebooks/NN_*.py``) in book order.

    Parameters
    ----------
    root : pathlib.Path or None, default=None
        The repository; None: :func:`project_root`.

    Returns
    -------
    sources : list of pathlib.Path
    """
    root = root or project_root()
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.py"))


#: what each chapter reads from others: the models it reuses from the cache (02 the paper-split runs of
#: 03; 06 the Phase I models of 05; 08 and 09 the fold models of 07) or their results (10 reads them all)
CHAPTER_NEEDS = {"02": ("03",), "06": ("05",), "08": ("07",), "09": ("07",),
                 "10": ("01", "02", "03", "04", "05", "06", "07", "08", "09")}


def chapter_waves(sources: list[Path]) -> list[list[Path]]:
    """Chapters in waves that can execute at once.

    A chapter comes in a wave after every chapter of ``sources`` it needs (:data:`CHAPTER_NEEDS`, by the
    number its name starts with), so that chapters running together never train the same model twice or
    read results not yet written.

    Parameters
    ----------
    sources : list of pathlib.Path
        Chapter sources.

    Returns
    -------
    waves : list of list of pathlib.Path
    """
    number = {src: src.stem.split("_")[0] for src in sources}
    present = set(number.values())
    level: dict[str, int] = {}

    def depth(n: str) -> int:
        if n not in level:
            level[n] = 1 + max((depth(d) for d in CHAPTER_NEEDS.get(n, ()) if d in present), default=-1)
        return level[n]
    waves: dict[int, list[Path]] = {}
    for src in sources:
        waves.setdefault(depth(number[src]), []).append(src)
    return [waves[k] for k in sorted(waves)]


def repository_url(configured: str = "", checkout: str | Path | None = None) -> str:
    """The book's public GitHub repository.

    From ``$FMRIEMO_REPOSITORY_URL``, else ``configured``, else the checkout's ``origin`` remote when that
    is on GitHub.

    Parameters
    ----------
    configured : str, default=""
        ``fmriemo_repository_url`` in _config.yml.
    checkout : str, path or None, default=None
        The checkout whose remote is read; None: :func:`project_root`.

    Returns
    -------
    url : str
        ``https://github.com/OWNER/NAME``, or ``""`` when none of them is one.
    """
    url = os.environ.get("FMRIEMO_REPOSITORY_URL", "").strip() or (configured or "").strip()
    if not url:
        try:
            url = subprocess.run(["git", "-C", str(checkout or project_root()), "remote", "get-url", "origin"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            url = ""
    return github_url(url)


def github_url(url: str) -> str:
    """A GitHub https or ssh URL as ``https://github.com/OWNER/NAME``.

    Parameters
    ----------
    url : str
        The URL.

    Returns
    -------
    url : str
        ``""`` for a URL that is not GitHub's.
    """
    m = re.match(r"^(?:https://github\.com/|git@github\.com:)([\w.-]+)/([\w.-]+?)(?:\.git)?/?$", url.strip())
    return f"https://github.com/{m.group(1)}/{m.group(2)}" if m else ""


def repository_branch() -> str:
    """The branch the chapters' install cell names.

    Returns
    -------
    branch : str
        ``$FMRIEMO_BRANCH``, or ``main``.
    """
    return os.environ.get("FMRIEMO_BRANCH", "").strip() or "main"


def install_spec(url: str, branch: str = "main") -> str:
    """What pip installs the project from outside a checkout.

    Parameters
    ----------
    url : str
        The public GitHub repository, ``https://github.com/OWNER/NAME``.
    branch : str, default="main"
        Its branch.

    Returns
    -------
    spec : str
        ``git+https://...@branch``.
    """
    return f"git+{url}@{branch}" if url else ""


def install_cell(url: str, branch: str = "main") -> str:
    """Source of the cell that opens every exported or executed chapter notebook.

    Rendered from ``resources/install_cell.py.tmpl``: where fmriemo is not importable (a downloaded
    notebook, Colab), it installs it from the public repository and fails with one line naming what it
    tried. Binder and a checkout already have it installed.

    Parameters
    ----------
    url : str
        The public GitHub repository, ``https://github.com/OWNER/NAME``.
    branch : str, default="main"
        Its branch.

    Returns
    -------
    source : str
    """
    return string.Template(INSTALL_CELL.read_text()).substitute(spec=repr(install_spec(url, branch)))


def chapter_notebook(source: str | Path, url: str | None = None, branch: str | None = None):
    """A chapter source as a notebook, opening with the install cell (tagged ``remove-cell``: not shown
    in the book).

    Parameters
    ----------
    source : str or path
        The jupytext chapter.
    url : str or None, default=None
        The public repository; None: :func:`repository_url`.
    branch : str or None, default=None
        Its branch; None: :func:`repository_branch`.

    Returns
    -------
    notebook : nbformat.NotebookNode
    """
    import jupytext  # deferred, as all the notebook tooling: the book's extra, not needed to train
    nb = jupytext.read(Path(source))
    url = repository_url() if url is None else url
    cell = nbformat.v4.new_code_cell(install_cell(url, branch or repository_branch()))
    cell.metadata["tags"] = ["remove-cell"]
    nb.cells.insert(0, cell)
    return nb


def select_chapters(sources, only) -> list[Path]:
    """The chapters a user names.

    Parameters
    ----------
    sources : list of pathlib.Path
        Chapter sources.
    only : list of str or None
        Each a chapter's number (``3``, ``03``) or its whole name (``03_class_task``, with or without
        ``.py``); None: all of them.

    Returns
    -------
    chapters : list of pathlib.Path

    Raises
    ------
    fmriemo.core.errors.UsageError
        For an empty value, or one that names no chapter or several, listing the chapters.
    """
    if only is None:
        return list(sources)
    by_number = {int(s.stem.split("_", 1)[0]): s for s in sources}
    by_name = {s.stem: s for s in sources}
    chosen, bad = [], []
    for value in only:
        text = str(value).strip().removesuffix(".py")
        src = by_name.get(text) or (by_number.get(int(text)) if text.isdigit() else None)
        if src is None:
            bad.append(repr(value))
        elif src not in chosen:
            chosen.append(src)
    if bad:
        raise UsageError(f"--only {' '.join(bad)}: no such chapter; give a chapter's number or name: "
                         + ", ".join(s.stem for s in sources))
    return [s for s in sources if s in chosen]


def export_notebooks(out_dir: str | Path, url: str | None = None, branch: str | None = None,
                     force: bool = False) -> list[Path]:
    """Every chapter as an unexecuted ``.ipynb`` (for Colab and downloads).

    Parameters
    ----------
    out_dir : str or path
        The folder.
    url : str or None, default=None
        The public repository; None: :func:`repository_url`.
    branch : str or None, default=None
        Its branch; None: :func:`repository_branch`.
    force : bool, default=False
        Replace notebooks already there (perhaps edited by the user); without it nothing is written and
        the first one is named.

    Returns
    -------
    notebooks : list of pathlib.Path
    """
    import jupytext  # deferred: the book's extra
    out_dir = check_writable_dir(out_dir, "notebooks folder", create=False)  # every check before any write
    targets = {src: out_dir / f"{src.stem}.ipynb" for src in chapter_sources()}
    for target in targets.values():
        check_output_file(target, force, "notebook", create=False)
    written = []
    for src, target in targets.items():
        atomic_write_text(target, jupytext.writes(chapter_notebook(src, url, branch), fmt="ipynb"))
        written.append(target)
    return written


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def tidy_executed(notebook: str | Path) -> None:
    """Prepare an executed chapter for the static book.

    * papermill's injected-parameters cell is tagged ``remove-cell``: the book shows the chapter's own
      parameters cell, not the values (and a user's paths) a build passed in; the downloaded notebook
      keeps the cell;
    * progress-bar widgets (tqdm in a kernel) are dropped: their state is not saved, so a static page
      would show "Loading widget..." or nothing, and load widget scripts from a CDN.

    Parameters
    ----------
    notebook : str or path
        The executed notebook, rewritten in place.
    """
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_MIME not in o.get("data", {})]
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, str(notebook))


def failed_notebook(output: str | Path) -> Path:
    """Where :func:`run_chapter` leaves a chapter that failed, as far as it ran.

    Parameters
    ----------
    output : str or path
        The executed notebook's intended path.

    Returns
    -------
    path : pathlib.Path
    """
    output = Path(output)
    return output.with_name(f"{output.stem}.failed.ipynb")


def run_chapter(source: str | Path, output: str | Path, parameters: dict | None = None,
                cwd: str | Path | None = None, progress: bool = False) -> Path:
    """Convert a jupytext chapter to a notebook (opening with the install cell), execute it with papermill
    and :func:`tidy_executed` it.

    Nothing a previous run left is replaced by less: the notebook executes under a temporary name and
    replaces ``output`` only once it has run to the end; if it fails (or is interrupted), the chapter's
    results files (``results/<chapter>.json`` and ``.csv``, which it rewrites as it runs) are put back as
    they were, and the notebook as far as it ran is left at :func:`failed_notebook`.

    Parameters
    ----------
    source : str or path
        The jupytext chapter.
    output : str or path
        The executed notebook.
    parameters : dict or None, default=None
        Values for the chapter's parameters cell.
    cwd : str, path or None, default=None
        The kernel's working folder; None: ``output``'s.
    progress : bool, default=False
        papermill's progress bar.

    Returns
    -------
    output : pathlib.Path
    """
    import jupytext  # deferred: the book's extra
    import papermill as pm  # deferred: the book's extra (it starts kernels)

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    results_dir = Path(cwd or output.parent) / "results"
    saved = {f: f.read_bytes() for f in results_dir.glob(f"{source.stem}.*") if f.is_file()}
    src_nb = output.with_name(f".{output.stem}.source.ipynb")
    running = output.with_name(f".{output.stem}.running.ipynb")
    jupytext.write(chapter_notebook(source), src_nb)
    try:
        pm.execute_notebook(str(src_nb), str(running), parameters=parameters or {}, kernel_name="python3",
                            cwd=str(cwd or output.parent), progress_bar=progress,
                            extra_arguments=[QUIET_KERNEL])
    except BaseException:
        for f in results_dir.glob(f"{source.stem}.*"):
            if f not in saved and f.is_file():
                f.unlink()
        for f, content in saved.items():
            f.write_bytes(content)
        if running.exists():
            os.replace(running, failed_notebook(output))
        raise
    finally:
        src_nb.unlink(missing_ok=True)
    tidy_executed(running)
    os.replace(running, output)
    failed_notebook(output).unlink(missing_ok=True)
    return output


#: the kernel logs only what is critical: its start-up warning that it "is running over TCP without
#: encryption" (it listens on localhost only) and the "KeyboardInterrupt caught in kernel" that a normal
#: shutdown can log read as failures in a terminal; a chapter's real errors are its cells' outputs
QUIET_KERNEL = "--IPKernelApp.log_level=CRITICAL"


def read_glued(notebook: str | Path) -> dict:
    """Values glued with ``myst_nb.glue`` in an executed notebook.

    Parameters
    ----------
    notebook : str or path
        The executed notebook.

    Returns
    -------
    glued : dict of str to str
        Name -> text/plain.
    """
    nb = json.loads(Path(notebook).read_text())
    out = {}
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            meta = o.get("metadata", {}).get("scrapbook")
            if meta:
                data = o.get("data", {})
                text = next((v for k, v in data.items() if k.endswith("text/plain")), None)
                out[meta["name"]] = "".join(text) if isinstance(text, list) else text
    return out


def notebook_errors(notebook: str | Path) -> list[str]:
    """Error outputs of an executed notebook.

    Parameters
    ----------
    notebook : str or path
        The executed notebook.

    Returns
    -------
    errors : list of str
        "ename: evalue" each.
    """
    nb = json.loads(Path(notebook).read_text())
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.get("cells", [])
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def build_record(chapters_dir: str | Path = "chapters") -> dict:
    """What this build ran on, for the book's record.

    The chapters' profile and data (the data's fingerprint, never a user's path), the commit, the device
    and package versions (``watermark``), read from the first executed chapter's papermill metadata.

    Parameters
    ----------
    chapters_dir : str or path, default="chapters"
        The executed chapters.

    Returns
    -------
    record : dict
    """
    import torch  # deferred: only the timing page asks which device the build had

    params: dict = {}
    for nb in sorted(Path(chapters_dir).glob("[0-9][0-9]_*.ipynb")):
        if not nb.name.endswith(".source.ipynb"):
            params = json.loads(nb.read_text()).get("metadata", {}).get("papermill", {}).get("parameters", {})
            break
    data_dir, seed = params.get("data_dir") or "", params.get("surrogate_seed", DEFAULT_SURROGATE_SEED)
    ds = open_dataset(data_dir, params.get("labels_csv") or "", seed, params.get("cache_dir") or "")
    try:
        root = project_root()
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        commit = (commit + (" (with uncommitted changes)" if dirty else "")) or "unknown (not a git checkout)"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown (git not available)"
    device = (torch.cuda.get_device_name(0) if torch.cuda.is_available()
              else f"CPU only ({torch.get_num_threads()} threads; {platform.processor() or platform.machine()})")
    try:
        from watermark import watermark  # deferred: the book's extra
        versions = watermark(packages="fmriemo,torch,numpy,scipy,pandas,scikit-learn,nilearn,captum,jupyter-book,"
                                      "papermill,myst-nb", python=True, machine=True, current_time=False,
                             updated=False)
    except ImportError:
        versions = "(install the book's extras for the package list: pip install -e '.[book]')"
    return {"profile": params.get("profile", "full"),
            "data": data_name(data_dir, seed),
            "data fingerprint (SHA-256, first 16)": ds.fingerprint[:16],
            "fmriemo": __version__, "commit": commit, "device": device, "versions": versions}
