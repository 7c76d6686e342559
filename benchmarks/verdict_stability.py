"""Does the verdict survive a re-run? The chapters the verdict reads are executed twice on the same data,
with two disjoint sets of training seeds (the first build with seeds 0..n-1 of every chapter, the second
with n..2n-1, n the profile's), and the two verdict pages are compared claim by claim and comparison by
comparison.

Two readings *agree* when they are equal, or when one of them is "not resolved at this budget": the rules
may decline to rank with one set of seeds and rank with the other, but they must never rank the same
comparison both ways, or read a claim as supported with one set and not supported with the other.

    python benchmarks/verdict_stability.py --profile quick             # minutes: CI's profile
    python benchmarks/verdict_stability.py --profile full --first book/chapters   # reuse a built book as the
                                                                                  # first set (seed 0)

Prints both verdicts side by side, the decision tables' outcomes, and the figure: how many readings agree.
The executed chapters are kept under ``--out`` (a temporary folder by default).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from fmriemo.book.verdict import CHAPTERS as READ

#: the chapters the verdict reads (fmriemo.book.verdict.CHAPTERS), then the verdict
CHAPTERS = (*READ, "10_verdict")


def agree(a: str, b: str, unresolved: str) -> bool:
    """Two readings of one claim or comparison agree when equal or when either is not resolved."""
    return a == b or a.startswith(unresolved) or b.startswith(unresolved)


def outcome_kind(outcome: str) -> str:
    """A decision table's outcome without its reasons: "ASB higher", "ASB lower", or "not resolved"."""
    if outcome.startswith("not resolved"):
        return "not resolved"
    return outcome.split(" (even though")[0]


def build(folder: Path, seed: int, profile: str, data_dir: str, cache_dir: str) -> float:
    """Execute the verdict's chapters into ``folder`` with first training seed ``seed``; minutes taken."""
    from fmriemo.book.build import chapter_sources, run_chapter

    sources = {s.stem: s for s in chapter_sources()}
    t0 = time.perf_counter()
    for stem in CHAPTERS:
        params = {"profile": profile, "data_dir": data_dir, "cache_dir": cache_dir}
        if stem != "10_verdict":
            params["seed"] = seed
        print(f"  {stem} (seed {seed}) ...", flush=True)
        run_chapter(sources[stem], folder / f"{stem}.ipynb", params)
    return (time.perf_counter() - t0) / 60


def compare(first: Path, second: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The claims and the decision-table rows of two builds side by side, with whether they agree."""
    from fmriemo.book import results
    from fmriemo.book.verdict import NOT_RESOLVED

    a, b = (results.load(f / results.FOLDER, "10_verdict") for f in (first, second))
    claims = pd.DataFrame({"claim": a.table("verdict")["the paper's claim"].to_numpy(),
                           "first": a.table("verdict")["reading"].to_numpy(),
                           "second": b.table("verdict")["reading"].to_numpy()})
    claims["agree"] = [agree(x, y, NOT_RESOLVED) for x, y in zip(claims["first"], claims["second"])]
    da, db = a.table("decisions"), b.table("decisions")
    rows = pd.DataFrame({"claim": da["claim"].to_numpy(), "comparison": da["comparison"].to_numpy(),
                         "measure": da["measure"].to_numpy(),
                         "first": [outcome_kind(o) for o in da["outcome"]],
                         "second": [outcome_kind(o) for o in db["outcome"]]})
    rows["agree"] = [agree(x, y, "not resolved") for x, y in zip(rows["first"], rows["second"])]
    return claims, rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick", choices=["quick", "full", "paper"])
    ap.add_argument("--data-dir", default="", help="the challenge folder (default: the built-in surrogate)")
    ap.add_argument("--cache-dir", default="", help="model cache shared by both builds (default: the book's)")
    ap.add_argument("--out", default="", help="where the two builds go (default: a temporary folder)")
    ap.add_argument("--first", default="", help="an executed chapters folder (seed 0) to use as the first build")
    a = ap.parse_args(argv)

    from fmriemo.profiles import Settings

    n = max(len(Settings.resolve(a.profile, paper_task=t).seeds) for t in ("class", "level"))
    n = max(n, len(Settings.resolve(a.profile).seeds))
    out = Path(a.out or tempfile.mkdtemp(prefix="fmriemo-verdict-stability-"))
    first = Path(a.first) if a.first else out / "first"
    second = out / "second"
    print(f"profile {a.profile}: seeds 0-{n - 1} against {n}-{2 * n - 1}; builds under {out}")
    minutes = {}
    if not a.first:
        minutes["first"] = build(first, 0, a.profile, a.data_dir, a.cache_dir)
    minutes["second"] = build(second, n, a.profile, a.data_dir, a.cache_dir)
    claims, rows = compare(first, second)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 60)
    print("\n== the claims ==")
    print(claims.to_string(index=False))
    print("\n== the comparisons they rest on ==")
    print(rows.to_string(index=False))
    both = pd.concat([claims["agree"], rows["agree"]])
    ranked_both = int(((rows["first"] != "not resolved") & (rows["second"] != "not resolved")).sum())
    print(f"\n{int(claims['agree'].sum())} of {len(claims)} claims and {int(rows['agree'].sum())} of {len(rows)} "
          f"comparisons agree ({int(both.sum())} of {len(both)} readings; {ranked_both} comparisons ranked by both "
          f"seed sets); build minutes: " + ", ".join(f"{k} {v:.1f}" for k, v in minutes.items()))
    return 0 if both.all() else 1


if __name__ == "__main__":
    sys.exit(main())
