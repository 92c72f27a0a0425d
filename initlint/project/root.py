"""The project root (SPEC 8.32) and the import name of each file under it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence

MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", ".env", "build", "dist",
     "site-packages", "__pycache__", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache",
     ".initlint_cache", ".eggs"}
)
# A root holding more files than this is not indexed whole (a home folder with a stray .git):
# the folder of the linted paths is the project instead.
MAX_FILES = 20_000


def find_root(paths: Sequence[str]) -> str | None:
    """The nearest folder above the linted paths holding a project marker, else their common folder."""
    folders = [os.path.abspath(p if os.path.isdir(p) else os.path.dirname(p) or ".") for p in paths]
    if not folders:
        return None
    try:
        common = os.path.commonpath(folders)
    except ValueError:  # different drives
        return None
    here = common
    while True:
        if any(os.path.exists(os.path.join(here, m)) for m in MARKERS):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return common
        here = parent


def project_files(root: str, max_size: int = 0) -> Iterator[str]:
    """Every regular ``.py`` file under ``root`` (absolute paths, sorted per folder, skipping tool and VCS folders).

    Like the linted folders' walk: FIFOs and devices are never opened, symlinks leading out of
    the root are not followed, and files over ``max_size`` bytes (0: no limit) are left out.
    """
    real_root = os.path.realpath(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info") and not d.startswith("."))
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            full = os.path.join(dirpath, name)
            if os.path.islink(full) and not _within(os.path.realpath(full), real_root):
                continue
            try:
                info = os.stat(full)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and not (max_size and info.st_size > max_size):
                yield full


def _within(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:
        return False


def module_name(path: str) -> tuple[str, bool]:
    """(dotted import name, is a package ``__init__``) of a file: up through folders holding ``__init__.py``.

    ``src/pkg/sub/mod.py`` with ``__init__.py`` in ``pkg`` and ``sub`` is ``pkg.sub.mod``; a file
    outside any package is named by its stem.
    """
    path = os.path.abspath(path)
    folder, base = os.path.split(path)
    stem = base.removesuffix(".py")
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, name = os.path.split(folder)
        parts.insert(0, name)
        if not name:
            break
    if not parts:  # an __init__.py outside any package folder (cannot happen on disk; keep total)
        parts = [os.path.basename(os.path.dirname(path)) or stem]
    return ".".join(p for p in parts if p), is_package
