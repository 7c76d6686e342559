"""The errors a user can cause, and how the command line reports each kind."""
import pytest

from fmriemo import cli
from fmriemo.core.errors import DataError, UsageError
from fmriemo.data.loader import load_challenge


def test_both_are_value_errors_and_distinct():
    assert issubclass(DataError, ValueError) and issubclass(UsageError, ValueError)
    assert not issubclass(UsageError, DataError) and not issubclass(DataError, UsageError)


def test_a_data_error_exits_1_and_a_usage_error_2(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert cli.main(["train", "--seeds", "2", "--cache-dir", str(tmp_path)]) == 2
    assert "--seeds does not apply" in capsys.readouterr().err


def test_a_message_is_one_line(tmp_path):
    with pytest.raises(DataError) as exc:
        load_challenge(tmp_path / "missing")
    assert "\n" not in str(exc.value) and str(tmp_path / "missing") in str(exc.value)
