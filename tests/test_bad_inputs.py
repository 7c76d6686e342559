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
from fmriemo.training import runs


def run(capsys, *argv):
    """(exit code, stdout, stderr) of ``fmriemo argv``; usage errors exit through SystemExit."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code, err, *needles, status=1):
    assert code == status, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    if status == 2:  # argparse: the usage block, then one "error:" line naming the option
        lines = [line for line in lines if ": error: " in line]
    assert len(lines) == 1, err
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
    assert_one_line_error(code, err, "--only 99", "no such chapter")


# --------------------------------------------------------------------------- outputs: checked before the work

def test_surrogate_into_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("keep me")
    code, _, err = run(capsys, "surrogate", tmp_path / "f")
    assert_one_line_error(code, err, "is a file")
    assert (tmp_path / "f").read_text() == "keep me"


def test_train_with_a_cache_that_is_a_file(tiny_challenge, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runs, "fit", lambda *a, **k: pytest.fail("trained before checking the cache"))
    (tmp_path / "cache").write_text("")
    code, _, err = run(capsys, "train", "--data-dir", tiny_challenge, "--cache-dir", tmp_path / "cache",
                       "--profile", "quick", "--quiet")
    assert_one_line_error(code, err, "is a file", "model cache")


def test_submit_into_a_folder_or_under_a_file(tiny_challenge, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runs, "fit", lambda *a, **k: pytest.fail("trained before checking the output"))
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
    monkeypatch.setattr(runs, "fit", lambda *a, **k: pytest.fail("trained before checking the output"))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    code, _, err = run(capsys, "submit", "--data-dir", tiny_challenge, "--out", ro / "sub.csv")
    assert_one_line_error(code, err, "cannot be written")


def test_ctrl_c_during_training_is_one_line(surrogate_dir, tmp_path, capsys, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(runs, "fit", interrupted)
    code, _, err = run(capsys, "train", "--data-dir", surrogate_dir, "--cache-dir", tmp_path / "c",
                       "--profile", "quick", "--quiet")
    assert_one_line_error(code, err, "interrupted", "not cached", status=130)
    assert not list((tmp_path / "c" / "runs").iterdir())
