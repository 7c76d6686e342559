"""The challenge loader: the valid layout, and one clear error for each way a folder can be wrong."""
import numpy as np
import pytest

from fmriemo.core.errors import DataError
from fmriemo.data.dataset import Dataset
from fmriemo.data.loader import folder_tree, load_challenge, read_labels_csv
from fmriemo.data.surrogate import write_npz


def test_loads_surrogate_layout(dataset):
    assert isinstance(dataset, Dataset)
    assert dataset.X.shape == (600, 246, 25) and dataset.X.dtype == np.float32
    assert dataset.participants == [f"P{i:02d}" for i in range(1, 21)]
    assert (dataset.split == "train").sum() == 480 and (dataset.split == "test").sum() == 120
    tr = dataset.split == "train"
    assert not np.isnan(dataset.y_class[tr]).any()
    # 9 released labels per test participant, the rest missing
    assert dataset.labelled[~tr].sum() == 36
    assert set(dataset.label_source[~tr & dataset.labelled]) == {"released"}
    assert dataset.trial[:30].tolist() == list(range(1, 31))
    assert len(dataset.region_names) == 246 and dataset.region_names[0] == "A8m_L"


def test_without_labels_csv_test_trials_are_unlabelled(surrogate_dir):
    ds = load_challenge(surrogate_dir)
    assert not ds.labelled[ds.split == "test"].any()


def test_labels_match_files(dataset, surrogate_dir):
    lab = np.load(surrogate_dir / "Train" / "P03" / "labels.npz")["data"]
    m = dataset.participant == "P03"
    assert np.array_equal(dataset.y_class[m], lab[:, 0]) and np.array_equal(dataset.y_level[m], lab[:, 1])


def test_names_case_insensitive_and_physiology_ignored(challenge_copy):
    p = challenge_copy / "Train" / "P01"
    (p / "fMRI_data.npz").rename(p / "fmri_DATA.NPZ")
    (challenge_copy / "Test").rename(challenge_copy / "test")
    (p / "ppg_data.npz").write_bytes(b"not even a zip")  # physiology is never read
    ds = load_challenge(challenge_copy)
    assert len(ds) == 600


def test_accepts_train_only_folder(tiny_challenge):
    ds = load_challenge(tiny_challenge)
    assert len(ds) == 24 and ds.labelled.sum() == 18


# --------------------------------------------------------------------- errors

# --------------------------------------------------------------------- errors

def _expect(root, *patterns, labels=None):
    with pytest.raises(DataError) as exc:
        load_challenge(root, labels)
    msg = str(exc.value)
    for p in patterns:
        assert p in msg, msg
    assert "\n" not in msg  # one clear line
    return msg


def test_missing_folder(tmp_path):
    _expect(tmp_path / "nope", "does not exist", "Train/")


def test_not_a_folder(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    _expect(f, "is not a folder")


def test_no_train_folder_hints_at_parent(challenge_copy):
    _expect(challenge_copy / "Train", "no Train/ folder", "pass its parent")


def test_no_participant_folders(tmp_path):
    (tmp_path / "Train").mkdir()
    (tmp_path / "Train" / ".ipynb_checkpoints").mkdir()  # hidden entries are passed over (and listed)
    _expect(tmp_path, "no participant folders")
    (tmp_path / "Train" / "notes").mkdir()  # anything else is reported, never skipped in silence
    _expect(tmp_path, "unexpected entries: notes")


def test_missing_fmri(tiny_challenge):
    (tiny_challenge / "Train" / "P02" / "fMRI_data.npz").unlink()
    _expect(tiny_challenge, "P02", "missing fMRI_data.npz")


def test_truncated_npz(tiny_challenge):
    f = tiny_challenge / "Train" / "P02" / "fMRI_data.npz"
    f.write_bytes(f.read_bytes()[:5000])
    _expect(tiny_challenge, str(f), "not a valid .npz archive")


def test_garbage_npz(tiny_challenge):
    f = tiny_challenge / "Test" / "P04" / "fMRI_data.npz"
    f.write_bytes(b"hello")
    _expect(tiny_challenge, str(f), "not a valid .npz archive")


def test_no_data_key(tiny_challenge):
    f = tiny_challenge / "Train" / "P01" / "fMRI_data.npz"
    np.savez(f, signal=np.zeros((6, 246, 25)))
    _expect(tiny_challenge, str(f), "no 'data' array", "signal")


@pytest.mark.parametrize("shape", [(6, 245, 25), (6, 246, 24), (246, 25), (6, 25, 246)])
def test_wrong_fmri_shape(tiny_challenge, shape):
    f = tiny_challenge / "Train" / "P01" / "fMRI_data.npz"
    write_npz(f, np.ones(shape))
    _expect(tiny_challenge, str(f), str(shape), "246 regions x 25 seconds")


def test_non_finite(tiny_challenge):
    f = tiny_challenge / "Train" / "P03" / "fMRI_data.npz"
    x = np.ones((6, 246, 25))
    x[2, 10, 3] = np.nan
    write_npz(f, x)
    msg = _expect(tiny_challenge, str(f), "non-finite")
    assert "trial 3" in msg and "region 10" in msg


def test_non_numeric(tiny_challenge):
    f = tiny_challenge / "Train" / "P03" / "fMRI_data.npz"
    write_npz(f, np.full((6, 246, 25), "a"))
    _expect(tiny_challenge, str(f), "expected real numbers")


def test_labels_wrong_shape(tiny_challenge):
    f = tiny_challenge / "Train" / "P01" / "labels.npz"
    write_npz(f, np.zeros((6, 3)))
    _expect(tiny_challenge, str(f), "(6, 3)", "[6, 2]")


def test_class_out_of_range(tiny_challenge):
    write_npz(tiny_challenge / "Train" / "P01" / "labels.npz", np.array([[2, 0]] * 6, float))
    _expect(tiny_challenge, "CLASS", "{-1, 0, 1}")


def test_level_out_of_range(tiny_challenge):
    write_npz(tiny_challenge / "Train" / "P01" / "labels.npz", np.array([[1, 5]] * 6, float))
    _expect(tiny_challenge, "LEVEL", "outside -4..4")


def test_level_not_integer(tiny_challenge):
    write_npz(tiny_challenge / "Train" / "P01" / "labels.npz", np.array([[1, 2.5]] * 6, float))
    _expect(tiny_challenge, "LEVEL", "not integers")


def test_train_participant_without_labels(tiny_challenge):
    (tiny_challenge / "Train" / "P02" / "labels.npz").unlink()
    _expect(tiny_challenge, "P02", "without labels.npz")


def test_duplicate_participant_ids(tiny_challenge):
    (tiny_challenge / "Test" / "P04").rename(tiny_challenge / "Test" / "P01")
    _expect(tiny_challenge, "duplicate participant id P01")


def test_duplicate_ids_differing_in_case(tiny_challenge):
    import shutil
    shutil.copytree(tiny_challenge / "Test" / "P04", tiny_challenge / "Test" / "p02")
    _expect(tiny_challenge, "duplicate participant id P02")


def _csv(tmp_path, text):
    f = tmp_path / "labels.csv"
    f.write_text(text)
    return f


def test_labels_csv_unknown_participant(tiny_challenge, tmp_path):
    f = _csv(tmp_path, "Participant,Trial,CLASS,LEVEL\nP09,1,1,2\n")
    _expect(tiny_challenge, "P09", "not in", labels=f)


def test_labels_csv_unknown_trial(tiny_challenge, tmp_path):
    f = _csv(tmp_path, "Participant,Trial,CLASS,LEVEL\nP04,7,1,2\n")
    _expect(tiny_challenge, "P04 trial 7", "1..6", labels=f)


def test_labels_csv_fills_test_trials_and_skips_empty(tiny_challenge, tmp_path):
    f = _csv(tmp_path, "Participant,Trial,CLASS,LEVEL\nP04,1,1,2\nP04,2,,\nP04,3,-1,-4\n")
    ds = load_challenge(tiny_challenge, f)
    t = ds.split == "test"
    assert ds.labelled[t].tolist() == [True, False, True, False, False, False]
    assert ds.y_level[t][[0, 2]].tolist() == [2, -4]


def test_labels_csv_conflicting_with_labels_npz(tiny_challenge, tmp_path):
    f = _csv(tmp_path, "Participant,Trial,CLASS,LEVEL\nP01,1,1,2\n")
    _expect(tiny_challenge, "disagree", labels=f)


@pytest.mark.parametrize("text, pattern", [
    ("Participant,Trial,CLASS\nP04,1,1\n", "missing column(s) LEVEL"),
    ("Participant,Trial,CLASS,LEVEL\nP04,1,3,2\n", "CLASS"),
    ("Participant,Trial,CLASS,LEVEL\nP04,1,1,9\n", "outside -4..4"),
    ("Participant,Trial,CLASS,LEVEL\nP04,x,1,2\n", "Trial 'x' is not an integer"),
    ("Participant,Trial,CLASS,LEVEL\nP04,1,1,\n", "not both"),
    ("Participant,Trial,CLASS,LEVEL\nP04,1,1,2\nP04,1,1,2\n", "duplicate row"),
])
def test_labels_csv_errors(tmp_path, text, pattern):
    with pytest.raises(DataError, match=pattern.replace("(", r"\(").replace(")", r"\)")):
        read_labels_csv(_csv(tmp_path, text))


def test_folder_tree_shows_the_layout_the_loader_reads(surrogate_dir):
    tree = folder_tree(surrogate_dir).splitlines()
    assert tree[0] == f"{surrogate_dir.name}/" and "    Train/" in tree and "    Test/" in tree
    assert "        P01/" in tree and "        ... (12 more)" in tree  # 16 participants, 4 shown
    assert not any(".manifest" in line for line in tree)  # hidden entries are not part of the layout

