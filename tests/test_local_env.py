"""`make env` writes the local .env once, so manage.py works in a fresh shell after `make run`."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
COPIED = (
    "manage.py",
    "Makefile",
    "imatch",
    "categories",
    "marketplace",
    "currency",
    "growth",
    "notifications",
    "conversations",
    "operations",
    "library",
    "community",
    "templates",
    "static",
    "fixtures",
)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The project's code without .env, database, venv or git: what a fresh clone holds."""
    copy = tmp_path / "imatch"
    copy.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        source = BASE_DIR / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy2(source, copy / name)
    return copy


def _fresh_shell_env() -> dict[str, str]:
    """The environment of a new terminal: nothing the Makefile or the tests exported."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in {"DATABASE_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    }


def _make_env(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "env", f"PYTHON={sys.executable} -S"],  # -S: no packages, as on a new machine
        cwd=project,
        env=_fresh_shell_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _manage_check(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=project,
        env=_fresh_shell_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_env_file_a_fresh_shell_cannot_start(project_copy):
    result = _manage_check(project_copy)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_make_env_lets_manage_py_run_in_a_fresh_shell(project_copy):
    made = _make_env(project_copy)
    assert made.returncode == 0, made.stdout + made.stderr
    env_file = project_copy / ".env"
    text = env_file.read_text()
    assert "DJANGO_DEBUG=true" in text
    [key_line] = [line for line in text.splitlines() if line.startswith("DJANGO_SECRET_KEY=")]
    assert len(key_line.removeprefix("DJANGO_SECRET_KEY=")) >= 50
    assert env_file.stat().st_mode & 0o077 == 0  # readable by its owner only

    result = _manage_check(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_make_env_never_changes_an_existing_env_file(project_copy):
    assert _make_env(project_copy).returncode == 0
    env_file = project_copy / ".env"
    first = env_file.read_bytes()
    again = _make_env(project_copy)
    assert again.returncode == 0, again.stdout + again.stderr
    assert env_file.read_bytes() == first

    # Nor does the script itself, called directly (a hand-edited .env stays as it is).
    env_file.write_text("DJANGO_DEBUG=false\nDJANGO_SECRET_KEY=the-operator-chose-this\n")
    direct = subprocess.run(
        [sys.executable, "imatch/envfile.py"], cwd=project_copy, capture_output=True, text=True, timeout=60
    )
    assert direct.returncode == 0
    assert "left unchanged" in direct.stdout
    assert env_file.read_text() == "DJANGO_DEBUG=false\nDJANGO_SECRET_KEY=the-operator-chose-this\n"


def test_env_file_is_git_ignored():
    ignored = (BASE_DIR / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
