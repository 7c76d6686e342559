"""The chapter tests' fixture: chapters executed through papermill with the quick profile into a folder
and a model cache of the test module's own (module scope: each module that uses it gets its own)."""
import json

import pytest

from fmriemo.book.build import chapter_sources, notebook_errors, read_glued, run_chapter


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cache = tmp_path_factory.mktemp("chapter-cache")
    out = tmp_path_factory.mktemp("chapters")

    def _run(stem, out_dir=None, **params):
        src = next(s for s in chapter_sources() if s.stem == stem)
        nb = run_chapter(src, (out_dir or out) / f"{stem}.ipynb",
                         {"profile": "quick", "cache_dir": str(cache), "surrogate_seed": 7, **params})
        assert notebook_errors(nb) == []
        return nb, {k: _value(v) for k, v in read_glued(nb).items()}
    _run.out, _run.cache = out, cache
    return _run


def _value(text):
    try:
        return json.loads(text.replace("'", '"')) if text[:1] in "'\"" else float(text)
    except (ValueError, AttributeError):
        return text
