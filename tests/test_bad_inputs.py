"""Bad or unusual inputs a user can cause: each ends in one line that names the file or
option and says what was expected (exit 1; 2 for usage errors), or is accepted and
reported. Every case builds its input in tmp_path and runs the CLI in-process."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from fmriemo import cli
from fmriemo.data.surrogate import write_npz
from fmriemo.training import batched, runs


def run(capsys, *argv):
    """(exit code, stdout, stderr) of ``fmriemo argv``; usage errors exit through SystemExit."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code, err, *needles, status=1):
    """One voice: exit 1 for data, 2 for usage (argparse's errors too), and exactly one line on stderr that
    starts with "error: " and names the culprit."""
    assert code == status, err
    assert "Traceback" not in err and "usage:" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: " if status == 130 else "error: "), err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def P(root: Path, split: str, pid: str) -> Path:
    return root / split / pid


# --------------------------------------------------------------------------- broken files in the folder

def _npy_instead_of_npz(root):
    np.save(P(root, "Train", "P01") / "x.npy", np.zeros((6, 246, 25)))
    os.replace(P(root, "Train", "P01") / "x.npy", P(root, "Train", "P01") / "fMRI_data.npz")
    return "plain .npy array"


def _text_as_npz(root):
    (P(root, "Train", "P01") / "fMRI_data.npz").write_text("trial,region,value\n1,1,9000\n")
    return "not a valid .npz archive"


def _empty_npz(root):
    (P(root, "Train", "P01") / "fMRI_data.npz").write_bytes(b"")
    return "is empty"


def _truncated_npz(root):
    f = P(root, "Train", "P01") / "fMRI_data.npz"
    f.write_bytes(f.read_bytes()[:200])
    return "not a valid .npz archive"


def _pickle_as_npz(root):
    import pickle
    (P(root, "Train", "P01") / "fMRI_data.npz").write_bytes(pickle.dumps({"data": [1, 2, 3]}))
    return "not a valid .npz archive"


def _no_data_key(root):
    np.savez(P(root, "Train", "P01") / "fMRI_data.npz", fmri=np.zeros((6, 246, 25)))
    return "no 'data' array"


def _wrong_shape(root):
    write_npz(P(root, "Train", "P01") / "fMRI_data.npz", np.zeros((6, 25, 246)))
    return "expected [trials, 246, 25]"


def _nan_values(root):
    x = 9000 + np.zeros((6, 246, 25))
    x[2, 5, 7] = np.nan
    write_npz(P(root, "Train", "P01") / "fMRI_data.npz", x)
    return "non-finite"


def _string_dtype(root):
    write_npz(P(root, "Train", "P01") / "fMRI_data.npz", np.full((6, 246, 25), "a"))
    return "expected real numbers"


def _labels_wrong_shape(root):
    write_npz(P(root, "Train", "P01") / "labels.npz", np.zeros((6, 3)))
    return "expected [6, 2]"


def _labels_bad_class(root):
    write_npz(P(root, "Train", "P01") / "labels.npz", np.array([[2, 0]] * 6, float))
    return "not in {-1, 0, 1}"


def _labels_bad_level(root):
    write_npz(P(root, "Train", "P01") / "labels.npz", np.array([[1, 7]] * 6, float))
    return "outside -4..4"


def _labels_missing(root):
    (P(root, "Train", "P01") / "labels.npz").unlink()
    return "without labels.npz"


def _fmri_missing(root):
    (P(root, "Train", "P02") / "fMRI_data.npz").unlink()
    return "missing fMRI_data.npz"


def _fmri_is_folder(root):
    f = P(root, "Train", "P02") / "fMRI_data.npz"
    f.unlink()
    f.mkdir()
    return "is a folder"


def _dangling_symlink(root):
    (root / "Train" / "P09").symlink_to(root / "nowhere")
    return "P09 (a broken link)"


def _odd_participant_name(root):
    shutil.copytree(P(root, "Train", "P01"), root / "Train" / "S01")
    return "S01 (not named P<number>)"


def _stray_file(root):
    (root / "Train" / "notes.txt").write_text("scan notes")
    return "notes.txt (not named P<number>)"


def _participant_is_file(root):
    (root / "Test" / "P05").write_text("")
    return "P05 (not a folder)"


def _duplicate_case(root):
    shutil.copytree(P(root, "Train", "P01"), root / "Test" / "p01")
    return "duplicate participant id P01"


def _no_train(root):
    shutil.rmtree(root / "Train")
    return "no Train/ folder"


def _empty_train(root):
    for p in (root / "Train").iterdir():
        shutil.rmtree(p)
    return "no participant folders"


def _case_clash(root):
    (P(root, "Train", "P01") / "FMRI_DATA.NPZ").write_bytes((P(root, "Train", "P01") / "fMRI_data.npz").read_bytes())
    return "several entries match"


FOLDER_CASES = [_npy_instead_of_npz, _text_as_npz, _empty_npz, _truncated_npz, _pickle_as_npz, _no_data_key,
                _wrong_shape, _nan_values, _string_dtype, _labels_wrong_shape, _labels_bad_class,
                _labels_bad_level, _labels_missing, _fmri_missing, _fmri_is_folder, _dangling_symlink,
                _odd_participant_name, _stray_file, _participant_is_file, _duplicate_case, _no_train,
                _empty_train, _case_clash]


@pytest.mark.parametrize("breakage", FOLDER_CASES, ids=[f.__name__.strip("_") for f in FOLDER_CASES])
def test_check_rejects_broken_folder(breakage, tiny_challenge, capsys):
    needle = breakage(tiny_challenge)
    code, out, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, needle)


def test_pickled_npz_is_never_unpickled(tiny_challenge, capsys, monkeypatch):
    import pickle
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("a user file was unpickled"))
    _pickle_as_npz(tiny_challenge)
    code, _, err = run(capsys, "check", tiny_challenge)
    assert code == 1


def test_hidden_entries_are_reported_not_fatal(tiny_challenge, capsys):
    (tiny_challenge / "Train" / ".DS_Store").write_bytes(b"\0")
    code, out, err = run(capsys, "check", tiny_challenge)
    assert code == 0, err
    assert "ignored hidden entry" in out and ".DS_Store" in out


def test_missing_and_file_data_dir(tmp_path, capsys):
    code, _, err = run(capsys, "check", tmp_path / "nope")
    assert_one_line_error(code, err, "does not exist")
    (tmp_path / "f").write_text("")
    code, _, err = run(capsys, "check", tmp_path / "f")
    assert_one_line_error(code, err, "is not a folder")


# --------------------------------------------------------------------------- labels and submissions

def _labels_csv(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


GOOD = "Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3\nP04,2,,\n"


@pytest.mark.parametrize("name,text,encoding,needle", [
    ("empty", "", "utf-8", "is empty"),
    ("blank", "\n\n", "utf-8", "is empty"),
    ("latin1", "Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3\n# caf\xe9\n", "latin-1", "not UTF-8"),
    ("no header", "P04,1,-1,-3\n", "utf-8", "missing column(s)"),
    ("half row", "Participant,Trial,CLASS,LEVEL\nP04,1,-1,\n", "utf-8", "CLASS or LEVEL but not both"),
    ("not integer", "Participant,Trial,CLASS,LEVEL\nP04,1,-1,2.5\n", "utf-8", "is not an integer"),
    ("unknown participant", "Participant,Trial,CLASS,LEVEL\nP77,1,-1,-3\n", "utf-8", "P77"),
    ("duplicate row", "Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3\nP04,1,-1,-3\n", "utf-8", "duplicate row"),
])
def test_check_labels_csv(name, text, encoding, needle, tiny_challenge, tmp_path, capsys):
    f = _labels_csv(tmp_path / "labels.csv", text, encoding)
    code, _, err = run(capsys, "check", tiny_challenge, "--labels", f)
    assert_one_line_error(code, err, needle)
    assert str(f) in err or "P77" in err


def test_spaces_around_separators_are_read_the_same_everywhere(tiny_challenge, tmp_path, capsys):
    spaced = _labels_csv(tmp_path / "spaced.csv", "Participant , Trial , CLASS , LEVEL\n P04 , 1 , -1 , -3 \n")
    code, out, err = run(capsys, "check", tiny_challenge, "--labels", spaced)
    assert code == 0, err
    sub = _labels_csv(tmp_path / "sub.csv", "Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3\n")
    code, out, err = run(capsys, "score", sub, spaced)
    assert code == 0, err
    assert "score 0.0000" in out


@pytest.mark.parametrize("what", ["missing", "folder", "empty", "latin1"])
def test_score_names_the_bad_labels_file(what, tmp_path, capsys):
    sub = _labels_csv(tmp_path / "sub.csv", "Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3\n")
    labels = tmp_path / "labels.csv"
    needle = {"missing": "does not exist", "folder": "is a folder", "empty": "is empty",
              "latin1": "not UTF-8"}[what]
    if what == "folder":
        labels.mkdir()
    elif what == "empty":
        labels.write_text("")
    elif what == "latin1":
        _labels_csv(labels, "Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3 \xe9\n", "latin-1")
    code, _, err = run(capsys, "score", sub, labels)
    assert_one_line_error(code, err, needle, str(labels))


def test_score_names_the_bad_submission(tmp_path, capsys):
    labels = _labels_csv(tmp_path / "labels.csv", GOOD)
    code, _, err = run(capsys, "score", tmp_path / "nope.csv", labels)
    assert_one_line_error(code, err, "submission does not exist", "nope.csv")


# --------------------------------------------------------------------------- options

@pytest.mark.parametrize("argv,needle", [
    (["train", "--device", "gpu"], "device must be"),
    (["train", "--device", "mps"], "device must be"),
    (["submit", "--out", "x.csv", "--device", "tpu"], "device must be"),
    (["train", "--seed", str(2**64)], "--seed"),
    (["train", "--seed", "-3"], "--seed"),
    (["surrogate", "out", "--seed", "-1"], "--seed"),
    (["train", "--seed", "seven"], "--seed"),
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--surrogate-seed", "-1"], "--surrogate-seed"),
    (["train", "--method", "resnet"], "--method"),
    (["chapters", "--profile", "fast"], "--profile"),
])
def test_bad_options_are_usage_errors(argv, needle, capsys):
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, needle, status=2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_refused_before_training(capsys):
    code, _, err = run(capsys, "train", "--device", "cuda")
    assert_one_line_error(code, err, "CUDA is not available", status=2)


def test_chapters_only_unknown_chapter(capsys):
    code, _, err = run(capsys, "chapters", "--only", "99")
    assert_one_line_error(code, err, "--only '99'", "no such chapter", status=2)


# --------------------------------------------------------------------------- outputs: checked before the work

def test_surrogate_into_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("keep me")
    code, _, err = run(capsys, "surrogate", tmp_path / "f")
    assert_one_line_error(code, err, "is a file")
    assert (tmp_path / "f").read_text() == "keep me"


def test_train_with_a_cache_that_is_a_file(tiny_challenge, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runs, "_train_unit", lambda *a, **k: pytest.fail("trained before checking the cache"))
    (tmp_path / "cache").write_text("")
    code, _, err = run(capsys, "train", "--data-dir", tiny_challenge, "--cache-dir", tmp_path / "cache",
                       "--profile", "quick", "--quiet")
    assert_one_line_error(code, err, "is a file", "model cache")


def test_submit_into_a_folder_or_under_a_file(tiny_challenge, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runs, "_train_unit", lambda *a, **k: pytest.fail("trained before checking the output"))
    (tmp_path / "out").mkdir()
    code, _, err = run(capsys, "submit", "--data-dir", tiny_challenge, "--out", tmp_path / "out", "--force")
    assert_one_line_error(code, err, "is a folder")
    assert list((tmp_path / "out").iterdir()) == [] and not list(tmp_path.glob(".out*"))
    (tmp_path / "file").write_text("")
    code, _, err = run(capsys, "submit", "--data-dir", tiny_challenge, "--out", tmp_path / "file" / "sub.csv")
    assert_one_line_error(code, err, "is a file")
    code, _, err = run(capsys, "submit", "--data-dir", tiny_challenge, "--out", tmp_path / "file")
    assert_one_line_error(code, err, "file exists", "--force")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_submit_into_read_only_folder(tiny_challenge, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runs, "_train_unit", lambda *a, **k: pytest.fail("trained before checking the output"))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    code, _, err = run(capsys, "submit", "--data-dir", tiny_challenge, "--out", ro / "sub.csv")
    assert_one_line_error(code, err, "cannot be written")


def test_ctrl_c_during_training_is_one_line(surrogate_dir, tmp_path, capsys, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(batched, "fit_steps", interrupted)
    code, _, err = run(capsys, "train", "--data-dir", surrogate_dir, "--cache-dir", tmp_path / "c",
                       "--profile", "quick", "--quiet")
    assert_one_line_error(code, err, "interrupted", "not cached", status=130)
    assert not list((tmp_path / "c" / "runs").iterdir())


# --------------------------------------------------------------------------- rule: only regular files are read
# A FIFO waits for a writer forever and a device never ends: every file is checked before it is opened.
# Each case must end within seconds; the alarm turns a hang into a failure.

@pytest.fixture
def within_seconds():
    import signal

    def hung(signum, frame):
        raise TimeoutError("the command hung")
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_fifo_as_fmri_file(tiny_challenge, capsys, within_seconds):
    f = P(tiny_challenge, "Train", "P02") / "fMRI_data.npz"
    f.unlink()
    os.mkfifo(f)
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, str(f), "is a FIFO (named pipe)")


@pytest.mark.parametrize("which", ["submission", "labels"])
def test_fifo_as_score_csv(which, tmp_path, capsys, within_seconds):
    sub = _labels_csv(tmp_path / "sub.csv", "Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3\n")
    labels = _labels_csv(tmp_path / "labels.csv", GOOD)
    fifo = sub if which == "submission" else labels
    fifo.unlink()
    os.mkfifo(fifo)
    code, _, err = run(capsys, "score", sub, labels)
    assert_one_line_error(code, err, str(fifo), "is a FIFO")


def test_fifo_as_released_labels(tiny_challenge, tmp_path, capsys, within_seconds):
    os.mkfifo(tmp_path / "labels.csv")
    code, _, err = run(capsys, "check", tiny_challenge, "--labels", tmp_path / "labels.csv")
    assert_one_line_error(code, err, "labels.csv", "is a FIFO")


def test_dev_zero_as_submission(tmp_path, capsys, within_seconds):
    labels = _labels_csv(tmp_path / "labels.csv", GOOD)
    code, _, err = run(capsys, "score", "/dev/zero", labels)
    assert_one_line_error(code, err, "/dev/zero", "is a character device")


def test_fifo_in_a_cached_model_is_damage_that_heals(tmp_path, capsys, within_seconds):
    argv = ["train", "--method", "ebr", "--epochs", "1", "--profile", "quick", "--cache-dir", tmp_path, "--quiet"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    model = next((tmp_path / "runs").glob("*/model.pt"))
    model.unlink()
    os.mkfifo(model)
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert "is damaged (model.pt is a FIFO (named pipe)); training it again" in err
    assert model.is_file() and '"from_cache": false' in out


# --------------------------------------------------------------------------- rule: nothing is lost

def test_chapters_check_the_data_before_replacing_a_notebook(tmp_path, capsys):
    out = tmp_path / "book"
    out.mkdir()
    (out / "01_data.ipynb").write_text("a notebook of a previous run")
    code, _, err = run(capsys, "chapters", "--only", "01", "--data-dir", tmp_path / "mistyped", "--out", out)
    assert_one_line_error(code, err, "mistyped", "does not exist")
    assert (out / "01_data.ipynb").read_text() == "a notebook of a previous run"


def test_notebooks_refuse_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "nb"
    out.mkdir()
    (out / "03_class_task.ipynb").write_text("my edited notebook")
    code, _, err = run(capsys, "notebooks", out, "--repository", "https://github.com/lab/fmriemo")
    assert_one_line_error(code, err, "03_class_task.ipynb", "file exists", "--force")
    assert (out / "03_class_task.ipynb").read_text() == "my edited notebook"
    assert sorted(p.name for p in out.iterdir()) == ["03_class_task.ipynb"]  # nothing else written either
    code, _, err = run(capsys, "notebooks", out, "--repository", "https://github.com/lab/fmriemo", "--force")
    assert code == 0, err
    assert "my edited notebook" not in (out / "03_class_task.ipynb").read_text()


def test_a_failed_chapter_keeps_the_previous_outputs(tmp_path, monkeypatch):
    """A chapter that fails leaves its previous notebook and results as they were, and itself at
    <chapter>.failed.ipynb."""
    from fmriemo.book import build
    out = tmp_path / "book"
    (out / "results").mkdir(parents=True)
    (out / "01_data.ipynb").write_text("previous notebook")
    (out / "results" / "01_data.json").write_text("previous results")
    src = tmp_path / "01_data.py"
    header = Path(build.chapter_sources()[0]).read_text().split("# %%")[0]  # jupytext's header and kernelspec
    src.write_text(header + "# %% tags=[\"parameters\"]\nprofile = 'quick'\n\n"
                   "# %%\nfrom fmriemo.book import results\nresults.start('01_data', 'results', {})\n"
                   "raise RuntimeError('this chapter fails')\n")
    with pytest.raises(Exception, match="this chapter fails"):
        build.run_chapter(src, out / "01_data.ipynb", {"profile": "quick"})
    assert (out / "01_data.ipynb").read_text() == "previous notebook"
    assert (out / "results" / "01_data.json").read_text() == "previous results"
    assert not (out / "results" / "01_data.csv").exists()
    assert "this chapter fails" in build.failed_notebook(out / "01_data.ipynb").read_text()


# --------------------------------------------------------------------------- rule: nothing odd is accepted silently

def test_test_is_a_file(tiny_challenge, capsys):
    shutil.rmtree(tiny_challenge / "Test")
    (tiny_challenge / "Test").write_text("")
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, "Test", "is a regular file", "expected the Test/ folder")


def test_test_is_a_broken_link(tiny_challenge, capsys):
    shutil.rmtree(tiny_challenge / "Test")
    (tiny_challenge / "Test").symlink_to(tiny_challenge / "elsewhere")
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, "Test", "is a broken link")


@pytest.mark.parametrize("command", ["check", "train"])
def test_values_beyond_float32_are_refused(command, tiny_challenge, tmp_path, capsys):
    x = 9000 + np.random.default_rng(1).standard_normal((6, 246, 25))
    x[3, 10, 4] = 1e39  # finite as float64, inf as float32
    write_npz(P(tiny_challenge, "Train", "P02") / "fMRI_data.npz", x)
    argv = ["check", tiny_challenge] if command == "check" else \
        ["train", "--data-dir", tiny_challenge, "--cache-dir", tmp_path / "c", "--quiet"]
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, "P02", "fMRI_data.npz", "beyond float32's range", "trial 4")


def test_a_test_participant_that_copies_a_training_one(tiny_challenge, capsys):
    src = P(tiny_challenge, "Train", "P02") / "fMRI_data.npz"
    shutil.copy(src, P(tiny_challenge, "Test", "P04") / "fMRI_data.npz")
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, "participant P04 (Test) holds exactly the data of P02 (Train)")


def test_identical_trials_across_participants(tiny_challenge, capsys):
    from fmriemo.data.loader import read_npz_array
    a = read_npz_array(P(tiny_challenge, "Train", "P01") / "fMRI_data.npz")
    b = read_npz_array(P(tiny_challenge, "Train", "P03") / "fMRI_data.npz")
    b[5] = a[2]
    write_npz(P(tiny_challenge, "Train", "P03") / "fMRI_data.npz", b)
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, "P03 trial 6 (Train) = P01 trial 3 (Train)")


@pytest.mark.parametrize("argv,needle", [
    (["train", "--seeds", "3"], "--seeds does not apply to train --split paper"),
    (["train", "--k", "3"], "--k does not apply"),
    (["train", "--n-val", "2"], "--n-val does not apply"),
    (["train", "--data-dir", "x", "--surrogate-seed", "5"], "--surrogate-seed does not apply with --data-dir"),
    (["check", ""], "DATA_DIR is empty"),
    (["submit", "--out", ""], "--out is empty"),
    (["chapters", "--out", ""], "--out is empty"),
])
def test_options_that_do_not_apply_or_are_empty(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, needle, status=2)
    assert list(tmp_path.iterdir()) == []


def test_surrogate_in_the_cache_with_an_extra_participant_is_damage(tmp_path, capsys):
    from fmriemo.data.source import open_dataset
    ds = open_dataset("", "", 2024, tmp_path)
    folder = next(tmp_path.glob("surrogate-*"))
    shutil.copytree(folder / "Train" / "P01", folder / "Train" / "P21")
    again = open_dataset("", "", 2024, tmp_path)
    err = capsys.readouterr().err
    assert "is damaged (Train/P21 is not one of its files" in err and "generating it again" in err
    assert not (folder / "Train" / "P21").exists() and again.fingerprint == ds.fingerprint


# --------------------------------------------------------------------------- rule: the header is read before the data

def _npz_with_member(path: Path, member: str, payload: bytes) -> Path:
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, payload)
    return path


def _npy_header(shape, descr="<f8") -> bytes:
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_npz_declaring_a_huge_array(tiny_challenge, capsys, within_seconds):
    f = P(tiny_challenge, "Train", "P01") / "fMRI_data.npz"
    _npz_with_member(f, "data.npy", _npy_header((10 ** 8, 246, 25)) + b"\0" * 64)  # 458 GiB declared
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, str(f), "(100000000, 246, 25)", "1 to 1,000 trials")


def test_npz_that_decompresses_beyond_its_array(tiny_challenge, capsys, within_seconds):
    f = P(tiny_challenge, "Train", "P01") / "fMRI_data.npz"
    _npz_with_member(f, "data.npy", _npy_header((6, 246, 25)) + b"\0" * (64 * 2 ** 20))  # a zip bomb, small
    assert f.stat().st_size < 2 ** 20
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, str(f), "header declares", "truncated or damaged")


def test_npz_member_that_is_not_npy(tiny_challenge, capsys):
    f = P(tiny_challenge, "Train", "P01") / "fMRI_data.npz"
    _npz_with_member(f, "data.npy", b"trial,region,value\n1,1,9000\n")
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, str(f), "member data.npy is not a .npy array")


def test_npz_with_object_dtype_is_refused_from_its_header(tiny_challenge, capsys, monkeypatch):
    import pickle
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("a user file was unpickled"))
    f = P(tiny_challenge, "Train", "P01") / "fMRI_data.npz"
    _npz_with_member(f, "data.npy", _npy_header((6, 246, 25), "|O") + pickle.dumps([1]))
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, str(f), "dtype object", "expected real numbers")


def test_pk_header_that_is_not_a_zip(tiny_challenge, capsys):
    f = P(tiny_challenge, "Train", "P01") / "fMRI_data.npz"
    f.write_bytes(b"PKnot a zip at all" + b"\0" * 100)
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, str(f), "starts like a zip archive but is not a valid .npz archive")
    assert "allow_pickle" not in err


def test_unknown_user_in_a_path(capsys):
    code, _, err = run(capsys, "check", "~nosuchuser_fmriemo/challenge")
    assert_one_line_error(code, err, "~nosuchuser_fmriemo", "names no user's home folder")


# --------------------------------------------------------------------------- labels and submissions: say what is wrong

@pytest.mark.parametrize("text,encoding,needles", [
    ("Participant,Trial,CLASS,LEVEL\nP04,inf,-1,-3\n", "utf-8", ["row 2", "Trial 'inf' is not an integer"]),
    ("Participant,Trial,CLASS,LEVEL\nP04,1e20,-1,-3\n", "utf-8", ["row 2", "Trial '1e20' is out of range"]),
    ("Participant,Trial,CLASS,LEVEL\nP04,1,-1,1e20\n", "utf-8", ["row 2", "LEVEL '1e20' is out of range"]),
    ("Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3\n", "utf-16-le", ["NUL bytes", "UTF-16", "save the"]),
    ("Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3\n" + "P" * 10 ** 4 + ",2,0,0\n", "utf-8",
     ["row 3", "Participant 'PPPP", "(10,000 characters)", "is not a participant id"]),
    ("Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3\n" + "P" * 10 ** 6 + ",2,0,0\n", "utf-8",
     ["row 3", "has a value longer than 131,072 characters"]),
])
def test_csv_values_are_named_by_row_and_cut_short(text, encoding, needles, tmp_path, capsys):
    labels = _labels_csv(tmp_path / "labels.csv", GOOD)
    sub = _labels_csv(tmp_path / "sub.csv", text, encoding)
    code, _, err = run(capsys, "score", sub, labels)
    assert_one_line_error(code, err, str(sub), *needles)
    assert len(err) < 400


def test_csv_with_a_separator_closing_every_row_reads_as_without(tmp_path, capsys):
    labels = _labels_csv(tmp_path / "labels.csv", GOOD)
    sub = _labels_csv(tmp_path / "sub.csv", "Participant,Trial,CLASS,LEVEL,\nP04,1,-1,-3,\nP04,2,0,0,\n")
    code, out, err = run(capsys, "score", sub, labels)
    assert code == 0, err
    assert "score 0.0000" in out
    rows_only = _labels_csv(tmp_path / "rows.csv", "Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3,\nP04,2,0,0,\n")
    code, out, err = run(capsys, "score", rows_only, labels)
    assert code == 0, err
    assert "score 0.0000" in out


def test_csv_with_a_value_beyond_the_header_is_refused(tmp_path, capsys):
    labels = _labels_csv(tmp_path / "labels.csv", GOOD)
    sub = _labels_csv(tmp_path / "sub.csv", "Participant,Trial,CLASS,LEVEL\nP04,1,-1,-3,note\n")
    code, _, err = run(capsys, "score", sub, labels)
    assert_one_line_error(code, err, "row 2 has 5 values, more than the 4 columns", "'note'")


def test_cache_env_pointing_at_a_file(tmp_path, capsys, monkeypatch):
    (tmp_path / "cachefile").write_text("")
    monkeypatch.setenv("FMRIEMO_CACHE", str(tmp_path / "cachefile"))
    code, _, err = run(capsys, "calibrate")
    assert_one_line_error(code, err, "$FMRIEMO_CACHE=", "cachefile", "is a regular file")


# --------------------------------------------------------------------------- damage heals, interruptions are one line

@pytest.mark.parametrize("damage", ["file", "unreadable"])
def test_a_damaged_run_entry_is_trained_again(damage, tmp_path, capsys):
    argv = ["train", "--method", "ebr", "--epochs", "1", "--profile", "quick", "--cache-dir", tmp_path, "--quiet"]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    entry = next(p for p in (tmp_path / "runs").iterdir() if ".tmp-" not in p.name)
    if damage == "file":
        shutil.rmtree(entry)
        entry.write_text("not a folder")
    else:
        entry.chmod(0)
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert entry.is_dir() and (entry / "model.pt").is_file()
    if damage == "file" or os.geteuid() != 0:  # root reads a folder whatever its mode
        assert "is damaged" in err and '"from_cache": false' in out


def test_ctrl_c_while_the_surrogate_is_written(tmp_path, capsys, monkeypatch):
    from fmriemo.data import surrogate
    calls = []

    def interrupted(path, x):
        calls.append(path)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return write_npz(path, x)
    monkeypatch.setattr(surrogate, "write_npz", interrupted)
    code, out, err = run(capsys, "surrogate", tmp_path / "s")
    assert_one_line_error(code, err, "interrupted: the surrogate folder was not written", status=130)
    assert "wrote" not in out and list(tmp_path.iterdir()) == []  # neither the folder nor a temporary one


def test_ctrl_c_message_fits_the_command(tmp_path, capsys, monkeypatch):
    from fmriemo.challenge import submission

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "score_files", interrupted)
    code, _, err = run(capsys, "score", tmp_path / "a.csv", tmp_path / "b.csv")
    assert_one_line_error(code, err, "interrupted: nothing was written", status=130)
    assert "training" not in err and submission  # nothing of training in a command that trains nothing


def test_ctrl_c_line_starts_a_line_of_its_own(surrogate_dir, tmp_path, capsys, monkeypatch):
    from tqdm.auto import tqdm

    def interrupted(*a, **k):
        bar = tqdm(total=10, desc="asb/class", leave=False)
        bar.update(3)
        raise KeyboardInterrupt
    monkeypatch.setattr(batched, "fit_steps", interrupted)
    code, _, err = run(capsys, "train", "--data-dir", surrogate_dir, "--cache-dir", tmp_path / "c", "--profile",
                       "quick")
    assert code == 130
    before = err[:err.index("interrupted:")]
    assert before == "" or before[-1] in "\r\n"  # the bar was closed (erased) before the line


def test_several_processes_making_the_same_surrogate_at_once(tmp_path):
    """Processes that start together on an empty cache all generate the surrogate; the first finished
    copy is kept and none deletes it under another (each reads the same data)."""
    import subprocess
    import sys
    code = ("import sys; from fmriemo.data.source import open_dataset; "
            "print(open_dataset('', '', 2024, sys.argv[1]).fingerprint)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [e for _, e in results]
    assert len({out.strip() for out, _ in results}) == 1
    assert [p.name for p in tmp_path.iterdir()] == [next(tmp_path.glob("surrogate-*")).name]  # no leftovers


def test_stale_temporary_entries_are_cleaned(tmp_path):
    import socket

    from fmriemo.core.store import write_entry
    dead = tmp_path / f"surrogate-x.tmp-{socket.gethostname()}-999999-abc"  # a process that no longer runs
    dead.mkdir()
    live = tmp_path / f"run.tmp-{socket.gethostname()}-{os.getpid()}-abc"  # one still writing
    live.mkdir()
    write_entry(tmp_path / "entry", lambda tmp: (tmp / "f").write_text("x"))
    assert not dead.exists() and live.exists()


# --------------------------------------------------------------------------- smaller

@pytest.mark.parametrize("argv,needle", [
    (["train", "--split", "groupkfold", "--k", "100"], "--k must be between 2 and"),
    (["train", "--split", "loso", "--n-val", "30"], "--n-val must be between 1 and"),
])
def test_option_values_only_the_data_can_refuse_are_usage_errors(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runs, "_train_unit", lambda *a, **k: pytest.fail("trained before checking the options"))
    code, _, err = run(capsys, *argv, "--epochs", "1", "--cache-dir", tmp_path, "--quiet")
    assert_one_line_error(code, err, needle, status=2)


def test_a_closed_pipe_is_not_an_error(surrogate_dir, capsys, monkeypatch, tmp_path):
    import sys

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

        def fileno(self):
            return os.open(tmp_path / "sink", os.O_WRONLY | os.O_CREAT)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert cli.main(["check", str(surrogate_dir)]) == 0
    assert "Broken pipe" not in capsys.readouterr().err


def test_chapters_print_no_kernel_noise(tmp_path):
    """A chapter run prints progress, times and results; the kernel's start-up warning and shutdown
    messages are not errors and do not reach the terminal."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "fmriemo.cli", "chapters", "--only", "01", "--profile", "quick",
                        "--out", tmp_path / "book", "--cache-dir", tmp_path / "cache"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr
    assert "01_data done" in r.stdout and (tmp_path / "book" / "01_data.ipynb").is_file()


# =========================================================================== the next round of rules

# --------------------------------------------------------------------------- 1. nothing of the user's is lost

def test_surrogate_force_replaces_its_own_files_and_keeps_the_users(tmp_path, capsys):
    out = tmp_path / "sg"
    assert run(capsys, "surrogate", out, "--seed", 3)[0] == 0
    mine = {out / "Train" / "P01" / "PPG_data.npz": b"the user's physiology", out / "notes.txt": b"my notes",
            out / "Supplementary" / "README": b"kept"}
    for f, content in mine.items():
        f.write_bytes(content)
    before = (out / "Train" / "P01" / "fMRI_data.npz").read_bytes()
    code, text, err = run(capsys, "surrogate", out, "--seed", 4, "--force")
    assert code == 0, err
    assert all(f.read_bytes() == content for f, content in mine.items())  # nothing of the user's lost
    assert (out / "Train" / "P01" / "fMRI_data.npz").read_bytes() != before  # the surrogate's own replaced
    assert "left untouched" in text and "notes.txt" in text and "Train/P01/PPG_data.npz" in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary or lock file left


def test_surrogate_force_refuses_a_file_where_it_writes_a_folder(tmp_path, capsys):
    out = tmp_path / "sg"
    out.mkdir()
    (out / "Train").write_text("a file of the user's named Train")
    code, _, err = run(capsys, "surrogate", out, "--force")
    assert_one_line_error(code, err, str(out / "Train"), "move it away")
    assert (out / "Train").read_text() == "a file of the user's named Train" and sorted(out.iterdir()) == [out / "Train"]


def test_notebooks_force_onto_a_full_disk_keeps_the_earlier_notebooks(tmp_path, capsys, full_disk):
    from fmriemo.book.build import chapter_sources
    first = full_disk / f"{chapter_sources()[0].stem}.ipynb"
    first.write_text("the user's edited notebook")
    _fill(full_disk)
    code, _, err = run(capsys, "notebooks", full_disk, "--force")
    assert_one_line_error(code, err, str(full_disk), "No space left on device")
    assert first.read_text() == "the user's edited notebook"
    assert not [p for p in full_disk.iterdir() if p.name.startswith(".") and p.name != ".filler"]


# --------------------------------------------------------------------------- 2. every error names its file

@pytest.fixture
def full_disk(tmp_path):
    """A folder on a tiny tmpfs of its own (64 KiB): the full disk, for real."""
    import subprocess
    where = tmp_path / "full"
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True)
    if r.returncode:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.decode().strip()}): the full-disk cases need root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(folder: Path) -> None:
    """Fill the disk of ``folder`` to the last byte."""
    try:
        with open(folder / ".filler", "wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
    except OSError:
        pass


def test_surrogate_onto_a_full_disk_names_the_folder_and_leaves_nothing(full_disk, capsys, within_seconds):
    code, _, err = run(capsys, "surrogate", full_disk / "sg")
    assert_one_line_error(code, err, str(full_disk / "sg"), "free some space")
    assert [p.name for p in full_disk.iterdir()] == []


def test_a_model_the_full_cache_cannot_keep_is_used_and_said(surrogate_dir, full_disk, capsys, within_seconds):
    _fill(full_disk)
    code, out, err = run(capsys, "train", "--data-dir", surrogate_dir, "--cache-dir", full_disk, "--method", "ebr",
                         "--epochs", 1, "--profile", "quick", "--quiet")
    assert code == 0, err
    assert '"method": "ebr"' in out  # the training is not lost: its result is printed
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: ") and str(full_disk) in lines[0]
    assert "trained again next time" in lines[0] and "enforce fail" not in err


def _npz_with(path: Path, patch) -> None:
    write_npz(path, np.zeros((6, 246, 25)))
    data = bytearray(path.read_bytes())
    patch(data)
    path.write_bytes(bytes(data))


def _encrypted(data):  # the "encrypted" bit of the general purpose flags, in the local and the central header
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(sig)
        data[i + off] |= 1


def _deflate64(data):  # a compression method (9) that zipfile cannot read
    for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        i = data.find(sig)
        data[i + off:i + off + 2] = (9).to_bytes(2, "little")


@pytest.mark.parametrize("patch,needle", [(_encrypted, "it is encrypted"), (_deflate64, "compression method")])
def test_an_npz_member_zipfile_cannot_read_names_the_file(patch, needle, tiny_challenge, capsys):
    f = P(tiny_challenge, "Train", "P01") / "fMRI_data.npz"
    _npz_with(f, patch)
    code, _, err = run(capsys, "check", tiny_challenge)
    assert_one_line_error(code, err, str(f), needle, "np.savez")


def _subprocess(argv, **kw):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "fmriemo.launch", *map(str, argv)], stderr=subprocess.PIPE,
                          text=True, timeout=60, **kw)


def test_closed_standard_output_is_an_error_not_silence(tiny_challenge):
    import os
    r = _subprocess(["check", tiny_challenge], preexec_fn=lambda: os.close(1))
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [
        "error: standard output is closed; the command's result would not be printed (redirect it to a file)"]


def test_a_full_standard_output_is_named(tiny_challenge):
    with open("/dev/full", "w") as full:
        r = _subprocess(["check", tiny_challenge], stdout=full)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: standard output: No space left on device"), r.stderr


# --------------------------------------------------------------------------- 3. no value is taken for another

@pytest.mark.parametrize("argv,needle", [
    (["chapters", "--only", ""], "--only ''"),                              # an empty value names no chapter
    (["chapters", "--only", "--profile", "quick"], "--only: expected at least one argument"),
    (["chapters", "--only", "0"], "--only '0'"),                           # 0 is no chapter's number: not a prefix
    (["chapters", "--only", "03_class"], "--only '03_class'"),             # a part of a name is not a name
    (["calibrate", "folder-a", "--data-dir", "folder-b"], "not both"),
])
def test_a_value_is_never_taken_for_another(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, needle, status=2)
    assert list(tmp_path.iterdir()) == []


def test_chapters_are_chosen_by_number_or_whole_name():
    from fmriemo.book.build import chapter_sources, select_chapters
    sources = chapter_sources()
    pick = lambda *only: [s.stem for s in select_chapters(sources, only)]  # noqa: E731
    assert pick("1") == pick("01") == pick("01_data") == pick("01_data.py") == ["01_data"]
    assert pick("10") == ["10_verdict"]  # "1" no longer also matches chapter 10 by prefix
    assert pick("7", "3", "03") == ["03_class_task", "07_held_out"]  # in book order, once each
    assert len(select_chapters(sources, None)) == len(sources)


# --------------------------------------------------------------------------- 4. check, then write, once

def test_chapters_with_an_unknown_chapter_create_no_folder(tmp_path, capsys):
    code, _, err = run(capsys, "chapters", "--only", "99", "--out", tmp_path / "new" / "out")
    assert code == 2 and not (tmp_path / "new").exists()


@pytest.mark.parametrize("command", [["train"], ["submit", "--out", "{tmp}/subs/new.csv"], ["chapters", "--out",
                                                                                             "{tmp}/book"]])
def test_a_misspelt_data_folder_leaves_no_folder_behind(command, tmp_path, capsys):
    argv = [c.format(tmp=tmp_path) for c in command]
    code, _, err = run(capsys, *argv, "--data-dir", tmp_path / "chalenge", "--cache-dir", tmp_path / "cache")
    assert_one_line_error(code, err, "chalenge")
    assert list(tmp_path.iterdir()) == []


def test_a_cache_inside_the_data_folder_is_refused_before_it_is_made(surrogate_dir, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(surrogate_dir, data)
    code, _, err = run(capsys, "train", "--data-dir", data, "--cache-dir", data / "cache", "--epochs", 1)
    assert_one_line_error(code, err, str(data / "cache"), "inside the challenge folder")
    assert not (data / "cache").exists()


def test_a_second_surrogate_writer_into_the_same_folder_is_refused(tmp_path, capsys):
    import fcntl
    out = tmp_path / "sg"
    with open(tmp_path / ".sg.writing", "a") as lock:  # the first writer, still at work
        fcntl.flock(lock, fcntl.LOCK_EX)
        code, _, err = run(capsys, "surrogate", out)
    assert_one_line_error(code, err, str(out), "another fmriemo surrogate is writing")
    assert not out.exists()


def test_two_surrogate_writers_at_once_one_wins_one_says_so(tmp_path):
    import subprocess
    import sys
    out = tmp_path / "sg"
    procs = [subprocess.Popen([sys.executable, "-m", "fmriemo.launch", "surrogate", str(out), "--seed", str(s)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in (1, 2)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert sorted(code for _, _, code in results) == [0, 1], results
    loser = next(err for _, err, code in results if code == 1)
    assert ("another fmriemo surrogate is writing" in loser or "not empty" in loser) and len(loser.splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["Supplementary", "Test", "Train", "ground_truth.json",
                                                     "released_labels.csv", "test_labels.csv"]


# --------------------------------------------------------------------------- 5. one voice

@pytest.mark.parametrize("argv,needle,status", [
    (["train", "--k", "x"], "argument --k", 2),                         # argparse's own error
    (["trian"], "invalid choice: 'trian'", 2),
    ([], "the following arguments are required", 2),
    (["train", "--seeds", "3"], "--seeds does not apply", 2),              # the tool's usage error
    (["check", "/nonexistent/fmriemo-data"], "/nonexistent/fmriemo-data", 1),  # a data error
])
def test_every_error_speaks_with_one_voice(argv, needle, status, capsys):
    code, out, err = run(capsys, *argv)
    assert out == ""
    assert_one_line_error(code, err, needle, status=status)
    assert "fmriemo train:" not in err and "fmriemo:" not in err.split("(see")[0]
