"""The result cache: one entry per linted ``.py`` file, keyed by what decides its result.

An entry's key is a BLAKE2b hash of

* the file's bytes and its path (as given, and absolute: findings carry the path and
  ``per-file-ignores`` match on it),
* the run's :class:`Settings` (every field, extra rule files included, since they are
  folded into ``activations``),
* initlint's version and a fingerprint of the installed package's own files (size and
  modification time of every module and rule file), so an upgrade or an edit of the
  rulebook never serves an old verdict.

* a secret of this user (32 random bytes in ``$XDG_CACHE_HOME/initlint/secret``, else
  ``~/.cache/initlint/secret``, created on first use), so that nobody else can name an
  entry: a cache folder committed to a repository, with a forged "clean" result for one
  of its files, is never looked up. Without a usable secret the cache is not used.

Any change of any part is a different key: nothing is ever invalidated in place.
Entries live under ``.initlint_cache/<version>/`` in the project root (the folder of the
configuration file, else the working directory), or under ``$INITLINT_CACHE_DIR``.
Writes go to a temporary file renamed over the entry with ``os.replace``, so concurrent
runs never see half an entry. Entries are pickles read by an unpickler that admits only
initlint's record classes, and every field of what it builds is then checked against the
record's declared type (and counts against their bounds): a planted, corrupt or
type-confused entry is a miss, never code run nor a traceback. Only regular files of at
most :data:`MAX_ENTRY_BYTES` are read (a FIFO is never opened blocking, a symbolic link
never followed), and a cache folder that is, or holds, a symbolic link is not used: a
committed one could redirect writes outside the project.
ONNX audits are not cached: hashing a model's weights would cost most of the audit.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
import json
import os
import pickle
import stat
import tempfile
import types
import typing
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import records
from .records import MAX_REPORTED_COUNT, FileResult
from .settings import Settings

CACHE_DIR_NAME = ".initlint_cache"
ENV_VAR = "INITLINT_CACHE_DIR"
FORMAT = 2  # bump when the entry layout changes

# The only classes an entry may contain; everything else in a pickle is refused.
_ALLOWED = {
    ("initlint.records", name)
    for name in ("FileResult", "Finding", "LayerRecord", "InitSpec", "Activation", "Origin", "Effect", "Entry")
}
# ... and a project index (one file per project root: path -> (content digest, summary, stamp)).
_INDEX_ALLOWED = {("initlint.project.index", name) for name in ("Summary", "ClassInfo", "FunctionInfo", "CallSite")}

# The largest entry read (a result for a 2 MB file of layers is far smaller).
MAX_ENTRY_BYTES = 32 * 1024 * 1024
MAX_INDEX_BYTES = 256 * 1024 * 1024  # the project index: one summary per file of the project
# The longest string field an entry may hold (messages and reasons are one line).
_MAX_STRING = 100_000
SECRET_BYTES = 32

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


def secret_path() -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME") or (os.path.join(os.path.expanduser("~"), ".cache")
                                                 if os.path.expanduser("~") != "~" else "")
    return Path(base) / "initlint" / "secret" if base else None


def user_secret() -> bytes | None:
    """This user's cache secret (created on first use), or None when it cannot be kept."""
    path = secret_path()
    if path is None:
        return None
    data = _read_regular(path, SECRET_BYTES)
    if data is not None:
        return data if len(data) == SECRET_BYTES else None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as err:
        if err.errno == errno.EEXIST:  # another run created it meanwhile
            data = _read_regular(path, SECRET_BYTES)
            return data if data is not None and len(data) == SECRET_BYTES else None
        return None
    secret = os.urandom(SECRET_BYTES)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    return secret


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file of at most ``limit`` bytes; None for anything else.

    Opened without following a symbolic link and without blocking (a FIFO planted at the
    path would otherwise wait for a writer forever), then checked to be a regular file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= limit else None


def _real_folder(path: Path) -> bool:
    """An existing folder that is not a symbolic link."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


class Cache:
    """Lint results on disk, one pickle per (content, path, settings, package, user secret) key."""

    def __init__(self, directory: str | os.PathLike[str], settings: Settings, secret: bytes | None = None) -> None:
        from . import __version__

        self.root = Path(directory)
        self.directory = self.root / __version__
        self._secret = secret if secret is not None else user_secret()
        self._prefix = f"{package_fingerprint()}\0{settings_fingerprint(settings)}\0".encode()
        self.hits = 0
        self.misses = 0

    @property
    def usable(self) -> bool:
        """Whether entries may be read and written: a secret, and no symbolic link where the entries live.

        The root may not be a link (a committed ``.initlint_cache`` pointing elsewhere);
        the folders under it are checked when an entry is read or written.
        """
        if self._secret is None:
            return False
        return not self.root.is_symlink()

    @classmethod
    def for_settings(cls, settings: Settings) -> Cache:
        return cls(default_dir(settings), settings)

    def key(self, path: str, data: bytes, context: str = "") -> str:
        """The entry name for ``path`` with content ``data`` under this cache's settings and package.

        ``context``: a digest of what the rest of the project contributes to the file's analysis (SPEC 8.32).
        """
        h = hashlib.blake2b(self._prefix, digest_size=20, key=self._secret or b"")
        h.update(f"{path}\0{os.path.abspath(path)}\0{context}\0".encode(errors="surrogateescape"))
        h.update(data)
        return h.hexdigest()

    def _index_file(self, root: str) -> Path:
        """Named by the root and keyed by the user secret, like the entries (a planted index is never read)."""
        name = hashlib.blake2b(os.path.abspath(root).encode(errors="surrogateescape"), digest_size=12,
                               key=self._secret or b"").hexdigest()
        return self.root / f"{self.directory.name}-index" / f"{name}.pickle"

    def load_index(self, root: str) -> dict[str, Any]:
        """The project index stored for ``root`` (path -> (digest, summary, stamp)); empty when absent or unreadable."""
        target = self._index_file(root)
        if not (self.usable and _real_folder(target.parent)):
            return {}
        raw = _read_regular(target, MAX_INDEX_BYTES)
        try:
            data = _IndexUnpickler(io.BytesIO(raw)).load() if raw is not None else None
        except Exception:  # a corrupt or planted index is no index
            return {}
        if not isinstance(data, dict) or data.get("fingerprint") != self._prefix:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def save_index(self, root: str, entries: dict[str, Any]) -> None:
        """Store the project index atomically (skipped silently when the cache cannot be written)."""
        target = self._index_file(root)
        if not self.usable:
            return
        try:
            data = pickle.dumps({"fingerprint": self._prefix, "entries": entries}, protocol=pickle.HIGHEST_PROTOCOL)
            for folder in (self.root, target.parent):  # made one by one: no link followed
                if not _real_folder(folder):
                    folder.mkdir(exist_ok=True)
                    if not _real_folder(folder):
                        return
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

    def _folders_real(self, key: str) -> bool:
        """The entry's folders, below the root, exist and are not symbolic links."""
        return self.usable and all(_real_folder(p) for p in (self.root, self.directory, self._entry(key).parent))

    def get(self, key: str, path: str | None = None) -> FileResult | None:
        """The stored result (for ``path``, when given), or None when absent, unreadable, corrupt or ill-typed."""
        result = None
        if self._folders_real(key):
            raw = _read_regular(self._entry(key), MAX_ENTRY_BYTES)
            try:
                result = _RecordUnpickler(io.BytesIO(raw)).load() if raw is not None else None
            except Exception:  # a corrupt or planted entry is a miss, whatever it raises
                result = None
        if not isinstance(result, FileResult) or not valid(result, FileResult) \
                or (path is not None and result.path != path):
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str, result: FileResult) -> None:
        """Store ``result`` atomically; a cache that cannot be written is silently skipped."""
        entry = self._entry(key)
        if not self.usable:
            return
        try:
            data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            for folder in (self.root, self.directory, entry.parent):  # made one by one: no link followed
                if not _real_folder(folder):
                    folder.mkdir(exist_ok=True)
                    if not _real_folder(folder):
                        return
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
            if not os.path.lexists(path):
                try:  # never through a symbolic link planted at the name
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
                    with os.fdopen(fd, "w") as fh:
                        fh.write(text)
                except OSError:
                    pass


# -- what an entry may hold: every field of the declared type ----------------------------------

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls, vars(records))
    return _HINTS[cls]


def valid(value: object, hint: Any) -> bool:
    """Whether ``value`` is of the type ``hint`` (as records declare their fields), recursively.

    A record must be of exactly its class with exactly its fields; integers are bounded
    by :data:`initlint.records.MAX_REPORTED_COUNT` in magnitude, strings by a length.
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin is typing.Literal:
        return type(value) is str and value in args
    if origin is typing.Union or origin is types.UnionType:
        return any(valid(value, a) for a in args)
    if origin is tuple:
        if type(value) is not tuple:
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(valid(v, args[0]) for v in value)
        return len(args) == len(value) and all(valid(v, a) for v, a in zip(value, args))
    if origin is dict:
        return type(value) is dict and all(valid(k, args[0]) and valid(v, args[1]) for k, v in value.items())
    if hint is bool:
        return type(value) is bool
    if hint is int:
        return type(value) is int and -MAX_REPORTED_COUNT <= value <= MAX_REPORTED_COUNT
    if hint is float:
        return type(value) is float or type(value) is int and abs(value) <= MAX_REPORTED_COUNT
    if hint is str:
        return type(value) is str and len(value) <= _MAX_STRING
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if type(value) is not hint:
            return False
        fields = _hints(hint)
        state = getattr(value, "__dict__", None)
        if not isinstance(state, dict) or set(state) != set(fields):
            return False
        return all(valid(state[name], fields[name]) for name in fields)
    return False
