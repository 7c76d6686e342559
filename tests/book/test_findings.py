"""What each chapter hands the verdict: one typed finding per chapter, built from what the chapter glued."""
import math
import re
from pathlib import Path

import pytest

from fmriemo.book import verdict
from fmriemo.book.findings import FINDINGS, ClassTask, HeldOut, LevelTask

ROOT = Path(__file__).resolve().parents[2]
#: every test here guards what the verdict reads (`make mutants` runs them)
pytestmark = pytest.mark.conclusions


def test_a_finding_is_built_from_glued_values_and_names_what_is_missing():
    values = {"asb_f1_mean": 0.7, "vanilla_f1_mean": None, "ebr_f1_mean": 0.4, "asb_wins": 2.5, "n_seeds": 3.0,
              "asb_acc_lo": 0.5, "asb_acc_hi": 0.8, "unrelated": "ignored"}
    f = ClassTask.from_values(values)
    assert f.asb_f1_mean == 0.7 and math.isnan(f.vanilla_f1_mean)  # null in a results file is NaN
    assert f.n_seeds == 3 and isinstance(f.n_seeds, int) and f.asb_wins == 2.5  # a count stays a count
    assert list(f.record()) == list(ClassTask.field_names()) and "unrelated" not in f.record()
    with pytest.raises(KeyError, match="chapter 03.*'n_seeds', 'asb_acc_hi'"):
        ClassTask.from_values({k: v for k, v in values.items() if k not in ("n_seeds", "asb_acc_hi")},
                              where="chapter 03")
    held = HeldOut.from_values({**dict.fromkeys(HeldOut.field_names(), 0.5), "protocol": "loso", "k": 3})
    assert held.protocol == "loso" and held.k == 3
    assert LevelTask.from_values({**dict.fromkeys(LevelTask.field_names(), 0.1), "majority_level": -1.0}
                                 ).majority_level == -1


def test_every_chapter_the_verdict_reads_hands_over_its_finding():
    """Each finding belongs to one chapter, which hands it over in a visible cell; the verdict reads the
    chapters of the findings and no other."""
    assert verdict.CHAPTERS == tuple(k.CHAPTER for k in FINDINGS)
    assert len({k.CHAPTER for k in FINDINGS}) == len(FINDINGS)
    for kind in FINDINGS:
        source = (ROOT / "notebooks" / f"{kind.CHAPTER}.py").read_text()
        cells = re.split(r"\n(?=# %%)", source)
        handing = [c for c in cells if f"hand_over({kind.__name__})" in c]
        assert len(handing) == 1, kind.CHAPTER
        assert "remove-input" not in handing[0].splitlines()[0] and "remove-cell" not in handing[0].splitlines()[0]
        others = [k.__name__ for k in FINDINGS if k is not kind and f"hand_over({k.__name__})" in source]
        assert not others, (kind.CHAPTER, others)
