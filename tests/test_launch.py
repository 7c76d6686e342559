"""The ``fmriemo`` command's entry point: Ctrl-C while the modules load ends in one line."""
import sys
import types

from fmriemo import launch


class _Interrupted(types.ModuleType):
    def __getattr__(self, name):  # Ctrl-C arrives while `from .cli import main` runs
        raise KeyboardInterrupt


def test_ctrl_c_while_starting_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "fmriemo.cli", _Interrupted("fmriemo.cli"))
    assert launch.main(["check", "."]) == 130
    err = capsys.readouterr().err.strip()
    assert err == launch.STARTING and "Traceback" not in err


def test_the_entry_point_runs_the_command_line(surrogate_dir, capsys):
    assert launch.main(["check", str(surrogate_dir)]) == 0
    assert capsys.readouterr().out.startswith("OK: ")
