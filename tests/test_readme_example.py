"""The README's bring-your-own-model example, run as written: the model file, the cross-validation over
held-out participants with the book's splitter, and the same model through ``fmriemo submit``."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def _blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    section = re.search(r"<!-- byo-model:start -->(.*?)<!-- byo-model:end -->", text, re.S).group(1)
    return re.findall(r"```(\w+)\n(.*?)```", section, re.S)


def test_readme_brings_its_own_model_through_every_protocol(tmp_path, surrogate_dir):
    (model_file, python), (example, cv), (shell, submit) = _blocks()
    assert (model_file, example, shell) == ("python", "python", "bash")
    (tmp_path / "my_model.py").write_text(python)
    (tmp_path / "example.py").write_text(cv)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "FMRIEMO_CACHE": str(tmp_path / "cache")}
    env.pop("FMRIEMO_MODELS", None)
    out = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    accuracy = re.search(r"held-out accuracy (\d\.\d\d) \((.*)\)", out.stdout)
    assert accuracy and len(accuracy.group(2).split(", ")) == 3
    # the shell line as written, with the fmriemo of this interpreter
    line = submit.strip()
    assert line.startswith("FMRIEMO_MODELS=my_model.py fmriemo submit ")
    args = line.split()[2:]
    out = subprocess.run([sys.executable, "-m", "fmriemo.cli", *args, "--quiet"], cwd=tmp_path,
                         env={**env, "FMRIEMO_MODELS": "my_model.py"}, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    sub = pd.read_csv(tmp_path / "twofilters.csv")
    assert len(sub) == 120 and set(sub["CLASS"]) <= {-1, 0, 1}


def test_a_models_file_that_is_not_there_is_named(tmp_path):
    env = {**os.environ, "FMRIEMO_MODELS": str(tmp_path / "missing.py"), "FMRIEMO_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "fmriemo.cli", "train", "--method", "asb", "--epochs", "1"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "FMRIEMO_MODELS" in out.stderr and "missing.py" in out.stderr
