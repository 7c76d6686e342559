"""Compare two folders of chapter results files (``results/<chapter>.json``) value by value.

A refactor must leave what the book finds unchanged: build the quick profile before and after,
then ``python benchmarks/compare_results.py BEFORE/results AFTER/results``. Every value, every field
of a chapter's finding and every table cell is compared; fields that measure time (training seconds,
minutes, whether a run came from the cache) are listed apart, since they change from one build to
the next by design. Exit status 1 when anything else differs.
"""
from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from pathlib import Path

#: names of values and table columns that record how long something took or whether it was cached (exact
#: names: a table column "seconds" counts seconds of a trial, and a difference there is a finding)
TIMING = ("train_seconds", "train_minutes", "paper_budget_minutes", "cached")


def _same(a, b, rtol: float) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if a is None or b is None:
            return a is b
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b if rtol == 0 else math.isclose(a, b, rel_tol=rtol, abs_tol=rtol)
    return a == b


def _timing(name: str) -> bool:
    return name in TIMING


def compare(before: Path, after: Path, rtol: float = 0.0) -> tuple[list[str], list[str]]:
    """``(differences, timing_differences)``: one line per differing value or table cell."""
    diffs, timing = [], []
    names = sorted({p.stem for p in before.glob("*.json")} | {p.stem for p in after.glob("*.json")})
    for chapter in names:
        a, b = before / f"{chapter}.json", after / f"{chapter}.json"
        if not (a.is_file() and b.is_file()):
            diffs.append(f"{chapter}: only in {'before' if a.is_file() else 'after'}")
            continue
        da, db = json.loads(a.read_text()), json.loads(b.read_text())
        for key in sorted((set(da["settings"]) | set(db["settings"])) - {"fmriemo"}):  # the data and profile
            if da["settings"].get(key) != db["settings"].get(key):
                diffs.append(f"{chapter} setting {key}: {da['settings'].get(key)!r} -> {db['settings'].get(key)!r}")
        for key in sorted(set(da["values"]) | set(db["values"])):
            va, vb = da["values"].get(key, "<absent>"), db["values"].get(key, "<absent>")
            if not _same(va, vb, rtol):
                (timing if _timing(key) else diffs).append(f"{chapter} value {key}: {va!r} -> {vb!r}")
        fa, fb = da.get("findings", {}), db.get("findings", {})  # what the chapter handed the verdict
        for name in sorted(set(fa) | set(fb)):
            if name not in fa or name not in fb:
                diffs.append(f"{chapter} finding {name}: only in {'before' if name in fa else 'after'}")
                continue
            for field in sorted(set(fa[name]) | set(fb[name])):
                va, vb = fa[name].get(field, "<absent>"), fb[name].get(field, "<absent>")
                if not _same(va, vb, rtol):
                    diffs.append(f"{chapter} finding {name}.{field}: {va!r} -> {vb!r}")
        for table in sorted(set(da["tables"]) | set(db["tables"])):
            ta, tb = da["tables"].get(table), db["tables"].get(table)
            if ta is None or tb is None:
                diffs.append(f"{chapter} table {table}: only in {'before' if tb is None else 'after'}")
                continue
            if len(ta) != len(tb):
                diffs.append(f"{chapter} table {table}: {len(ta)} rows -> {len(tb)} rows")
                continue
            for i, (ra, rb) in enumerate(zip(ta, tb)):
                for col in sorted(set(ra) | set(rb)):
                    va, vb = ra.get(col, "<absent>"), rb.get(col, "<absent>")
                    if not _same(va, vb, rtol):
                        line = f"{chapter} table {table} row {i} ({ra.get('index')}) {col}: {va!r} -> {vb!r}"
                        (timing if _timing(col) else diffs).append(line)
    return diffs, timing


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for numbers (default: exact)")
    a = p.parse_args(argv)
    diffs, timing = compare(a.before, a.after, a.rtol)
    n = len(list(a.before.glob("*.json")))
    print(f"{n} chapters compared; {len(diffs)} differing values or cells; "
          f"{len(timing)} timing fields differ (expected)")
    for line in diffs:
        print("  " + line)
    return 1 if diffs else 0


if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):  # piped into `head`: end quietly when the reader closes, as a shell tool does
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
