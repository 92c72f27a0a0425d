"""One run's project (SPEC 8.32): index every file under the root, then say what each linted file depends on.

The index is cached by content (one pickle per project root, see :mod:`initlint.cache`), so
a run on one changed file summarises only that file; a file whose size, modification time and
module name are those it was indexed with is not even read (one modified within the last two
seconds is always read: it may change again within the clock's resolution). ``context_key`` is the digest of what
other files contribute to a file's analysis (the summaries of the modules it imports and of
the classes it can reach), so a cached result is reused only while that context is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..limits import Checked, inspect_source, read_source
from ..records import RETURNED, FileResult
from ..rulebook import conventions
from ..settings import Settings
from .index import FORMAT, Summary, decoded, summarise
from .model import ProjectModel
from .root import MAX_FILES, find_root, module_name, project_files
from .view import View


# The index keeps the ``ast`` trees of the files to lint, up to this much source, so that their lint does not
# parse them again (a tree takes about 40 times its source's size).
MAX_KEPT_TREES = 8 * 1024 * 1024


# A file's (size, modification time in ns, module name) when indexed: the same stamp, the same content.
Stamp = tuple[int, int, str]
# A file modified this recently may be modified again within the clock's resolution: it is always read.
RACY_NS = 2_000_000_000


def _stamp(path: str, module: str, max_size: int) -> Stamp | None:
    """The file's stamp; None for what is not a regular file within the size limit (read as before)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or (max_size and info.st_size > max_size):
        return None
    return info.st_size, info.st_mtime_ns, module


def _keras(summary: Summary) -> bool:
    """Does the file import Keras or TensorFlow (its analysis then reads other files' code, SPEC 8.32)?"""
    return any("keras" in q.split(".")[0] or q.split(".")[0] == "tensorflow" for _local, q in summary.imports)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _semantic(summary: Summary) -> str:
    """A summary's digest without positions (an edit that only moves lines changes nothing downstream)."""
    plain = replace(summary, size=0, classes=tuple(replace(c, line=0) for c in summary.classes),
                    functions=tuple(replace(f, line=0) for f in summary.functions),
                    calls=tuple(replace(c, line=0) for c in summary.calls))
    return _digest(repr(plain).encode())  # repr, not pickle: pickle bytes depend on object sharing


class Session:
    """The project of one run: its model, and per file a view and a context digest."""

    def __init__(self, root: str, model: ProjectModel, raw: dict[str, str] | None = None,
                 checks: dict[str, tuple[Checked, int]] | None = None) -> None:
        self.root = root
        self.model = model
        self._semantic: dict[str, str] = {}  # path -> digest of its summary without positions, when first asked
        self._raw = raw or {}  # content digests: the Keras frontend reads other files' code, not their summaries
        self._keys: dict[str, str] = {}
        self._checks = checks or {}

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_checks": {}}  # a spawned worker parses its files itself

    def checked(self, path: str) -> Checked | None:
        """(text, ``check_source(text)``) of a file to lint, as the index read it (once: the tree is then let go)."""
        found = self._checks.pop(os.path.abspath(path), None)
        return found[0] if found is not None else None

    def parse_cost(self, path: str, text: str) -> int | None:
        """libcst's estimated parse cost of a file to lint (:func:`initlint.limits.inspect_source`), if the index
        measured this text."""
        found = self._checks.get(os.path.abspath(path))
        return found[1] if found is not None and found[0][0] == text else None

    @classmethod
    def open(cls, paths: Sequence[str], settings: Settings, store: object | None = None) -> Session | None:
        """Index the project of ``paths`` (``.py`` files); None when there is none to index."""
        root = find_root(paths)
        if root is None:
            return None
        files = []
        table = conventions(settings.conventions)
        for f in project_files(root, settings.max_file_size):
            if table.never_runs(f):
                continue  # a template the framework never imports (its modular_*.py)
            files.append(f)
            if len(files) > MAX_FILES:
                return None  # too large to be one project: every file stands alone
        walked = set(files)
        for p in paths:  # linted files outside the walk (a skipped folder named explicitly)
            ap = os.path.abspath(p)
            try:
                regular = stat.S_ISREG(os.stat(ap).st_mode) and not os.path.islink(ap)
            except OSError:
                regular = False
            if ap not in walked and regular and not table.never_runs(ap):
                files.append(ap)
        stored = store.load_index(root) if store is not None else {}  # type: ignore[attr-defined]
        entries: dict[str, tuple[str, Summary | None, Stamp | None]] = {}
        changed = False
        linted = {os.path.abspath(p) for p in paths}
        checks: dict[str, tuple[Checked, int]] = {}
        budget = MAX_KEPT_TREES
        settled = time.time_ns() - RACY_NS
        for path in files:
            module, is_package = module_name(path)
            stamp = _stamp(path, module, settings.max_file_size)
            old = stored.get(path)
            if stamp is not None and old is not None and len(old) == 3 and old[2] == stamp:
                entries[path] = old  # unchanged since indexed: not even read
                continue
            data = read_source(path, settings.max_file_size)  # never blocks on a FIFO swapped in since the walk
            if isinstance(data, str):
                continue
            digest = _digest(data + f"\0{module}\0{FORMAT}".encode())
            stamp = stamp if stamp is not None and stamp[1] < settled else None  # a file just written may change again
            if old is not None and len(old) == 3 and old[0] == digest:
                entries[path] = old if old[2] == stamp else (digest, old[1], stamp)
                changed = changed or old[2] != stamp
                continue
            changed = True
            text = decoded(data)
            summary = None
            if text is not None:
                hazard, tree, cost = inspect_source(text)  # one ast parse for the index and the lint
                if path in linted and len(data) <= budget:
                    checks[path] = ((text, (hazard, tree)), cost)
                    budget -= len(data)
                summary = summarise(path, text, module, is_package, (hazard, tree))
            entries[path] = (digest, summary, stamp)
        if store is not None and (changed or len(entries) != len(stored)):
            store.save_index(root, entries)  # type: ignore[attr-defined]
        summaries = [s for _d, s, _stamp in entries.values() if s is not None]
        model = ProjectModel(root, summaries, conventions(settings.conventions))
        raw = {path: digest for path, (digest, summary, _stamp) in entries.items() if summary is not None}
        return cls(root, model, raw, checks)

    def semantic(self, path: str) -> str:
        """The digest of a file's summary without positions ("" when the index has none)."""
        if path not in self._semantic:
            summary = self.model.linker.by_path.get(path)
            self._semantic[path] = _semantic(summary) if summary is not None else ""
        return self._semantic[path]

    def view(self, path: str) -> View | None:
        summary = self.model.linker.by_path.get(os.path.abspath(path))
        return View(self.model, summary) if summary is not None else None

    def context_key(self, path: str) -> str:
        """Digest of the summaries a file's analysis reads: its imports' modules, their definitions, bases, subtrees."""
        path = os.path.abspath(path)
        if path in self._keys:
            return self._keys[path]
        summary = self.model.linker.by_path.get(path)
        if summary is None:
            return ""
        linker = self.model.linker
        modules: set[str] = set()
        for _local, q in summary.imports:
            found = linker.resolve(q)
            if found is not None:
                modules.add(found.summary.path)
                for anc_q, anc in linker.mro(found.qualified):
                    if anc is not None:
                        modules.add(anc.summary.path)
                if found.cls is not None:
                    for sub, _layers in self.model.subtree(found.qualified):
                        sf = linker.resolve(sub)
                        if sf is not None:
                            modules.add(sf.summary.path)
            elif q in linker.modules:
                modules.add(linker.modules[q].path)
        built: list[str] = []  # which of its classes are built only as bases (the analysis drops their own records)
        for cls in summary.classes:
            q = f"{summary.module}.{cls.name}"
            for _q, anc in linker.mro(q):
                if anc is not None:
                    modules.add(anc.summary.path)
            if self.model.is_module_class(q):
                built.append(f"{cls.name}:{self.model.constructed(q)}:{','.join(sorted(self.model.subclasses(q)))}")
        modules.discard(path)
        parts = [summary.module] + built + [f"{m}:{self.semantic(m)}" for m in sorted(modules)]
        parts += [f"{c.name} built: {self.model.outside_calls(f'{summary.module}.{c.name}')}"  # sizes per container
                  for c in summary.classes]
        if _keras(summary):
            parts += [f"{m}:{self._raw.get(m, '')}" for m in sorted(self._keras_context(summary) - {path})]
        self._keys[path] = _digest("\n".join(parts).encode())
        return self._keys[path]

    def _keras_context(self, summary: Summary, depth: int = 6) -> set[str]:
        """Files whose code a Keras file's analysis reads: the callers of its classes and functions (and theirs,
        ``depth`` deep, SPEC 8.32), and the project modules each of those imports (functions and bases they name)."""
        linker = self.model.linker
        seen = {summary.module}
        frontier = [summary]
        out: set[str] = set()
        for _ in range(depth):
            nxt: list[Summary] = []
            for s in frontier:
                out.add(s.path)
                for _local, q in s.imports:
                    found = linker.resolve(q) if linker.in_project(q) else None
                    if found is not None:
                        out.add(found.summary.path)
                for unit in (*s.classes, *s.functions):
                    for caller in self.model.callers(f"{s.module}.{unit.name}"):
                        if caller not in seen and caller in linker.modules:
                            seen.add(caller)
                            nxt.append(linker.modules[caller])
            frontier = nxt
        return out

    def entry_files(self, linted: Iterable[FileResult], analysed: Iterable[str]) -> list[str]:
        """Files not analysed yet that define the classes the linted layers pass their output to."""
        done = {os.path.abspath(p) for p in analysed}
        wanted: set[str] = set()
        for result in linted:
            for key in {c for rec in result.records for c in rec.into} | {c for e in result.entries for c in e.into}:
                for cls in self._deciding(key):
                    found = self.model.linker.resolve(cls)
                    if found is not None and found.summary.path not in done:
                        wanted.add(found.summary.path)
        return sorted(wanted)

    def _deciding(self, key: str) -> list[str]:
        """The classes whose files answer an ``into`` key: the class (its entry), or for its returned output the
        containers of it and its subclasses (their exits)."""
        if not key.startswith(RETURNED):
            return [key]
        cls = key[len(RETURNED):]
        return sorted({p for each in (cls, *self.model.subclasses(cls)) for p in self.model.builders(each)})

    def context_files(self, linted: Iterable[str]) -> list[str]:
        """Files of other classes that build the linted files' classes and re-initialize: their effects are needed."""
        linker = self.model.linker
        wanted: set[str] = set()
        linted_abs = {os.path.abspath(p) for p in linted}
        for path in linted_abs:
            summary = linker.by_path.get(path)
            if summary is None or not summary.mentions_torch:
                continue
            for cls in summary.classes:
                owner = f"{summary.module}.{cls.name}"
                for built in self.model.built_as(owner):
                    for chain in self.model.paths(built, 10, 64):
                        for container in chain[1:] if built == owner else chain:  # a subclass: its own init code too
                            found = linker.resolve(container)
                            if found is not None and found.summary.path != path and \
                                    (container == built or self.model.reinitializes(container)):
                                wanted.add(found.summary.path)
        return sorted(wanted - linted_abs)

