"""Which data a chapter or command runs on: the user's folder, or the surrogate generated into the store."""
from fmriemo.data.source import data_folder, data_name, open_dataset


def test_the_surrogate_opens_with_its_released_labels(tmp_path):
    ds = open_dataset("", "", 3, tmp_path)
    assert ds.labelled[ds.split == "test"].sum() == 36 and set(ds.label_source[ds.labelled & (ds.split == "test")]) \
        == {"released"}
    folder = data_folder("", 3, tmp_path)
    assert folder.parent == tmp_path and folder.name.endswith("-seed3") and ds.source == str(folder)


def test_a_folder_opens_as_given_and_is_named_not_pathed(surrogate_dir, tmp_path):
    ds = open_dataset(surrogate_dir)
    assert not ds.labelled[ds.split == "test"].any()  # no labels CSV given: the test trials stay unlabelled
    with_labels = open_dataset(surrogate_dir, surrogate_dir / "released_labels.csv")
    assert with_labels.labelled[with_labels.split == "test"].sum() == 36
    assert data_folder(surrogate_dir) == surrogate_dir
    assert data_name(surrogate_dir) == f"challenge folder '{surrogate_dir.name}'" and str(tmp_path) not in \
        data_name(surrogate_dir)
    assert data_name("", 7) == "built-in surrogate, seed 7"
