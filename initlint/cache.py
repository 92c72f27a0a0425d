"""The result cache: one entry per linted ``.py`` file, keyed by what decides its result.

An entry's key is a BLAKE2b hash of

* the file's bytes and its path (as given, and absolute: findings carry the path and
  ``per-file-ignores`` match on it),
* the run's :class:`Settings` (every field, extra rule files included, since they are
  folded into ``activations``),
* initlint's version and a fingerprint of the installed package's own files (size and
  modification time of every module and rule file), so an upgrade or an edit of the
  rulebook never serves an old verdict.

Any change of any part is a different key: nothing is ever invalidated in place.
Entries live under ``.initlint_cache/<version>/`` in the project root (the folder of the
configuration file, else the working directory), or under ``$INITLINT_CACHE_DIR``.
Writes go to a temporary file renamed over the entry with ``os.replace``, so concurrent
runs never see half an entry. Entries are pickles read by an unpickler that admits only
initlint's record classes, so a planted or corrupt entry is a miss, never code run.
ONNX audits are not cached: hashing a model's weights would cost most of the audit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .records import FileResult
from .settings import Settings

CACHE_DIR_NAME = ".initlint_cache"
ENV_VAR = "INITLINT_CACHE_DIR"
FORMAT = 1  # bump when the entry layout changes

# The only classes an entry may contain; everything else in a pickle is refused.
_ALLOWED = {
    ("initlint.records", name)
    for name in ("FileResult", "Finding", "LayerRecord", "InitSpec", "Activation", "Origin", "Effect")
}
# ... and a project index (one file per project root: path -> (content digest, summary)).
_INDEX_ALLOWED = {("initlint.project.index", name) for name in ("Summary", "ClassInfo", "FunctionInfo", "CallSite")}

_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by initlint.\n"


class _RecordUnpickler(pickle.Unpickler):
    """An unpickler that can build initlint's records and nothing else."""

    allowed = _ALLOWED

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache entry")


class _IndexUnpickler(_RecordUnpickler):
    allowed = _INDEX_ALLOWED


def package_fingerprint() -> str:
    """Version plus (path, size, mtime) of every file of the installed initlint package and rulebook."""
    from . import __version__

    here = Path(__file__).resolve().parent
    roots = [here, here.parent / "rules", here / "rules"]
    parts = [__version__, str(FORMAT)]
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".toml"):
                st = path.stat()
                parts.append(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def settings_fingerprint(settings: Settings) -> str:
    """Every field of the settings, canonically serialized."""
    return json.dumps(asdict(settings), sort_keys=True, default=repr)


def default_dir(settings: Settings) -> Path:
    """``$INITLINT_CACHE_DIR``, else ``.initlint_cache`` in the config's folder, else in the working directory."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(settings.config_root or os.getcwd()) / CACHE_DIR_NAME


class Cache:
    """Lint results on disk, one pickle per (content, path, settings, package) key."""

    def __init__(self, directory: str | os.PathLike[str], settings: Settings) -> None:
        from . import __version__

        self.root = Path(directory)
        self.directory = self.root / __version__
        self._prefix = f"{package_fingerprint()}\0{settings_fingerprint(settings)}\0".encode()
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_settings(cls, settings: Settings) -> Cache:
        return cls(default_dir(settings), settings)

    def key(self, path: str, data: bytes, context: str = "") -> str:
        """The entry name for ``path`` with content ``data`` under this cache's settings and package.

        ``context``: a digest of what the rest of the project contributes to the file's analysis (SPEC 8.32).
        """
        h = hashlib.blake2b(self._prefix, digest_size=20)
        h.update(f"{path}\0{os.path.abspath(path)}\0{context}\0".encode())
        h.update(data)
        return h.hexdigest()

    def _index_file(self, root: str) -> Path:
        name = hashlib.blake2b(os.path.abspath(root).encode(), digest_size=12).hexdigest()
        return self.root / f"{self.directory.name}-index" / f"{name}.pickle"

    def load_index(self, root: str) -> dict[str, Any]:
        """The project index stored for ``root`` (path -> (digest, summary)); empty when absent or unreadable."""
        try:
            raw = self._index_file(root).read_bytes()
            data = _IndexUnpickler(io.BytesIO(raw)).load()
        except Exception:  # a corrupt or planted index is no index
            return {}
        if not isinstance(data, dict) or data.get("fingerprint") != self._prefix:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def save_index(self, root: str, entries: dict[str, Any]) -> None:
        """Store the project index atomically (skipped silently when the cache cannot be written)."""
        target = self._index_file(root)
        try:
            data = pickle.dumps({"fingerprint": self._prefix, "entries": entries}, protocol=pickle.HIGHEST_PROTOCOL)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._mark_root()
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / key[2:]

    def get(self, key: str) -> FileResult | None:
        """The stored result, or None when absent, unreadable, corrupt or not a FileResult."""
        try:
            raw = self._entry(key).read_bytes()
            result = _RecordUnpickler(io.BytesIO(raw)).load()
        except Exception:  # a corrupt or planted entry is a miss, whatever it raises
            result = None
        if not isinstance(result, FileResult):
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str, result: FileResult) -> None:
        """Store ``result`` atomically; a cache that cannot be written is silently skipped."""
        entry = self._entry(key)
        try:
            data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            entry.parent.mkdir(parents=True, exist_ok=True)
            self._mark_root()
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, entry)
            except BaseException:
                os.unlink(tmp)
                raise
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass  # read-only checkout, full disk, an unpicklable extra: lint on without caching

    def _mark_root(self) -> None:
        # Like other tools' caches: never committed, skipped by backup tools.
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "*\n")):
            path = self.root / name
            if not path.exists():
                try:
                    path.write_text(text)
                except OSError:
                    pass
