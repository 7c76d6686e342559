"""The Dataset in memory: label vocabulary, the masks and orders every layer uses, the fingerprint."""
import numpy as np
import pytest

from fmriemo.core.errors import DataError
from fmriemo.data.dataset import decode, encode, normalise_participant, participant_key
from fmriemo.data.loader import load_challenge
from fmriemo.data.surrogate import write_npz


def test_encode_decode_roundtrip():
    assert encode("class", [-1, 0, 1]).tolist() == [0, 1, 2]
    assert decode("level", encode("level", [-4, 0, 4])).tolist() == [-4, 0, 4]
    with pytest.raises(ValueError, match="task"):
        encode("valence", [0])


def test_fingerprint_changes_with_data(tiny_challenge):
    a = load_challenge(tiny_challenge).fingerprint
    assert a == load_challenge(tiny_challenge).fingerprint
    write_npz(tiny_challenge / "Train" / "P01" / "labels.npz",
              np.array([[-1, -2], [0, 0], [1, 2], [-1, -1], [0, 1], [1, 4]], float))
    assert load_challenge(tiny_challenge).fingerprint != a


def test_normalise_participant():
    assert normalise_participant(" p07 ") == "P07" and normalise_participant("P17") == "P17"



def test_labelled_train_and_labels_of_rows(dataset):
    m = dataset.labelled_train
    assert m.sum() == 480 and (dataset.split[m] == "train").all() and dataset.labelled[m].all()
    rows = np.flatnonzero(m)[:5]
    assert dataset.labels("class", rows).tolist() == dataset.y_class[rows].astype(int).tolist()
    assert dataset.labels("level", m).dtype.kind == "i" and len(dataset.labels("level", m)) == 480
    with pytest.raises(DataError, match="no label"):
        dataset.labels("class")  # test trials without released labels
    with pytest.raises(ValueError, match="task must be"):
        dataset.labels("valence", rows)


def test_one_participant_order_by_number():
    names = ["P10", "P2", "P1", "S3", "p03"]
    assert sorted(names, key=participant_key) == ["P1", "P2", "p03", "P10", "S3"]
