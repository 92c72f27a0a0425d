"""What a run is configured with (CLI flags over ``[tool.initlint]`` over defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .records import Severity
from .rulebook import rule

SEVERITY_RANK: dict[str, int] = {"advice": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("INIT",)  # code prefixes
    ignore: tuple[str, ...] = ()
    fail_on: Severity = "warning"
    activations: dict[str, str] = field(default_factory=dict)  # user name -> family
    signal_threshold: float = field(default_factory=lambda: rule("INIT008").threshold("factor"))
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    config_root: str | None = None  # folder of the config file: per-file-ignores and excludes are relative to it
    propagate: bool = False  # ONNX audits: run one seeded N(0,1) batch through onnxruntime (INIT008)
    input_shape: tuple[int, ...] | None = None  # that batch's shape when the graph's input has dynamic dims
    max_file_size: int = 2_000_000  # bytes; larger .py files are skipped with an error line (0: no limit)
    timeout: float = 60.0  # seconds per file before it is skipped with an error line (0: no limit)
    respect_gitignore: bool = True  # walking folders skips what git ignores (inside a git work tree)
    project: bool = True  # SPEC 8.32: the rest of the project (containers, bases, helpers) decides; False: files alone
    conventions: tuple[tuple[str, str], ...] = ()  # extra rule files' framework conventions: (path, toml text)

    def selected(self, code: str) -> bool:
        """ruff-style prefix selection: the longest matching prefix decides."""
        sel = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        ign = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return sel > ign

    def fails(self, severity: str) -> bool:
        return SEVERITY_RANK[severity] >= SEVERITY_RANK[self.fail_on]
