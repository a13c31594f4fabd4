"""The layers: `onegin` imports no role, the roles never import each other, and the
`onegin` command still finds every role's subcommands through the entry points."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from onegin import cli

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _declared(group: str) -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return dict(project["entry-points"][group])


def _commands(help_text: str) -> set[str]:
    """The subcommands in ``onegin --help``'s ``{optimize,worker,…}``."""
    return set(help_text.split("{", 1)[1].split("}", 1)[0].split(","))


def test_installed_entry_points_match_pyproject() -> None:
    """Stale metadata (pyproject changed, not reinstalled) would hide a role's commands."""
    for group in ("onegin.commands", "onegin.runners"):
        installed = {point.name: point.value for point in entry_points(group=group)}
        assert installed == _declared(group), f"run `pip install -e .` ({group})"


def test_help_lists_every_roles_command() -> None:
    done = subprocess.run([sys.executable, "-m", "onegin.cli", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    commands = _commands(done.stdout)
    assert set(_declared("onegin.commands")) <= commands
    assert {"optimize", "worker", "db", "cancel", "token"} <= commands


def test_a_role_missing_from_the_installation_is_named() -> None:
    """As in the GPU image, which has no web app: the core's commands work, and asking
    for `onegin web` says why it is not there. (The package is blocked in
    ``sys.modules``: a shadow folder on the path would not hide it from the editable
    install's finder, which resolves ``webapp.commands`` from the repository.)"""
    run_cli = ("import sys; sys.modules['webapp'] = None; from onegin.cli import main; "
               "sys.exit(main(sys.argv[1:]))")

    def onegin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", run_cli, *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60)

    listed = onegin("--help")
    assert listed.returncode == 0, listed.stderr
    assert {"optimize", "trial"} <= _commands(listed.stdout)
    assert "web" not in _commands(listed.stdout)
    asked = onegin("web")
    assert asked.returncode == 2
    assert "`onegin web` (No module named 'webapp.commands'" in asked.stderr
    assert "pip install -e ." in asked.stderr


def test_an_installation_without_the_entry_points_says_to_reinstall(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Metadata from before the roles registered (or none): `pip install -e .` mends it."""
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: ())
    with pytest.raises(SystemExit) as stopped:
        cli.main(["web"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'web'" in err and "'onegin.commands' entry points" in err
    assert "run `pip install -e .`" in err


def test_the_layers_hold() -> None:
    done = subprocess.run([str(LINT_IMPORTS)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_contracts_catch_a_lazy_upward_import(tmp_path: Path) -> None:
    """The contracts themselves, on a tiny tree: the core importing a role inside a
    function, and one role importing another, both fail the check."""
    for package, body in {"onegin": "def f():\n    import webapp.api\n",
                          "orchestrator": "", "gpu_worker": "import webapp\n",
                          "webapp": "", "webapp/api": ""}.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(body, encoding="utf-8")
    done = subprocess.run([str(LINT_IMPORTS), "--config", str(REPO / "pyproject.toml")],
                          cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "onegin -> webapp.api" in done.stdout.replace("(l.", "")
    assert "gpu_worker -> webapp" in done.stdout
    assert "2 broken" in done.stdout
