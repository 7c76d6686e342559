"""A chapter's parameters are input too: each value a parameters cell invites is checked where the chapter
starts, and a bad one stops it there with one line naming the parameter (fmriemo.book.parameters); a list a
chapter may leave empty leaves its section out, and the chapter says so."""
import time

import pytest

from fmriemo.book.build import chapter_sources, run_chapter
from fmriemo.book.parameters import CHECKS, check_parameters
from fmriemo.core.errors import ParameterError


@pytest.mark.parametrize("name,value,needle", [
    ("seed", -1, "between 0 and"), ("seed", 1.5, "must be an integer"), ("n_seeds", 0, "at least 1"),
    ("epochs", "10", "must be an integer or None"), ("k", 1, "at least 2"), ("profile", "fast", "one of quick"),
    ("methods", [], "at least one"), ("methods", "asb", "must be a list"), ("methods", ["asb", "resnet"], "'resnet'"),
    ("methods", ["asb", "asb"], "twice"), ("time_preprocessings", ["pct", "bogus"], "'bogus'"),
    ("top_k", 300, "between 1 and 246"), ("device", "tpu", "must be auto"), ("interactive_map", "x", "one of se"),
    ("n_crossfit", 1, "at least 2"), ("ratings", "nine", "class-aware"), ("data_dir", None, "path as text"),
])
def test_each_rule_names_its_parameter(name, value, needle):
    with pytest.raises(ParameterError, match=needle) as exc:
        check_parameters({name: value})
    assert str(exc.value).startswith(f"{name} ")


def test_good_values_and_empty_sections_pass():
    check_parameters({"seed": 3, "n_seeds": None, "methods": ["asb", "ebr"], "time_preprocessings": [],
                      "order_check_methods": [], "preprocessings": [], "device": "cpu", "profile": "quick",
                      "unrelated": object()})
    with pytest.raises(ParameterError, match="submit_method must be one of methods"):
        check_parameters({}, submit_method=(False, "must be one of methods"))


def test_every_parameter_of_every_chapter_has_a_rule():
    import jupytext
    for src in chapter_sources():
        cell = next(c for c in jupytext.read(src).cells if "parameters" in c.metadata.get("tags", []))
        names = [line.split("=")[0].strip() for line in cell.source.splitlines()
                 if "=" in line and not line.startswith(("#", "import", " "))]
        assert set(names) <= set(CHECKS), (src.stem, set(names) - set(CHECKS))


#: per chapter, values its parameters cell invites that cannot be used, and the parameter the stop names
BAD = [("01_data", {"seed": -3}, "seed"), ("02_models", {"epochs": 0}, "epochs"),
       ("03_class_task", {"methods": ["asb", "resnet"]}, "methods"), ("03_class_task", {"n_seeds": 0}, "n_seeds"),
       ("04_level_task", {"split_seed": -1}, "split_seed"),
       ("05_challenge", {"submit_method": "ebr", "methods": ["asb"]}, "submit_method"),
       ("06_brain_maps", {"top_k": 0}, "top_k"), ("07_held_out", {"time_preprocessings": ["pct", "bogus"]},
                                                  "time_preprocessings"),
       ("07_held_out", {"protocol": "trials"}, "protocol"), ("08_attribution", {"interactive_map": "pet"},
                                                             "interactive_map"),
       ("09_level_and_beyond", {"class_models": []}, "class_models"), ("10_verdict", {"profile": "fast"}, "profile")]


@pytest.mark.chapter
@pytest.mark.parametrize("stem,params,name", BAD, ids=[f"{s}-{n}" for s, _, n in BAD])
def test_a_chapter_stops_at_its_first_cell_naming_the_parameter(stem, params, name, tmp_path):
    from papermill.exceptions import PapermillExecutionError
    src = next(s for s in chapter_sources() if s.stem == stem)
    t0 = time.perf_counter()
    with pytest.raises(PapermillExecutionError) as exc:
        run_chapter(src, tmp_path / f"{stem}.ipynb", {"profile": "quick", "cache_dir": str(tmp_path / "cache"),
                                                      **params})
    assert exc.value.ename == "ParameterError" and exc.value.evalue.startswith(f"{name} "), exc.value.evalue
    # it stopped in the chapter's first code cell, at the call that opens the chapter
    assert "open_chapter(" in exc.value.source or "check_parameters(globals()" in exc.value.source
    assert time.perf_counter() - t0 < 20
    assert not (tmp_path / "cache").exists()  # stopped before anything was written


def test_a_module_under_a_parameters_name_is_not_checked():
    from fmriemo.challenge import ratings  # chapter 9 imports it beside its parameters
    check_parameters({"ratings": ratings, "methods": ["asb"], "glue": print})
