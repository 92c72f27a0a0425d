"""Score initlint against the evaluation corpus: precision and recall per framework.

The corpus under ``tests/corpus/<framework>/`` holds realistic model files whose
expected findings are marked on the layer's construction line (``# expect: INIT005 advice``)
and whose layers that must be unresolved carry ``# expect-unresolved``. A finding
matches a marker by (path, line, code); a severity mismatch counts as a wrong finding
and leaves the marker missed.

    precision = matched findings / all findings
    recall    = matched markers  / all markers
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from initlint import lint_file
from initlint.records import is_layer

from ..conftest import expected_findings, expected_unresolved

CORPUS = Path(__file__).resolve().parent
FRAMEWORKS = ("torch", "keras")

# Layer construction calls, for counting the layers that carry no marker (must not be flagged).
_LAYER_CALL = {
    "torch": re.compile(r"\b(?:Lazy)?(?:Linear|Bilinear|Conv[123]d|ConvTranspose[123]d|Parameter)\("),
    "keras": re.compile(
        r"\b(?:Dense|Conv[123]D|Conv[123]DTranspose|SeparableConv[12]D|DepthwiseConv[12]D)\("
    ),
}


@dataclass(frozen=True)
class Mark:
    """One finding, expected (a marker) or reported (by initlint)."""

    path: str
    line: int
    code: str
    severity: str
    message: str = ""

    def label(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.severity}"


@dataclass
class Score:
    """The corpus result for one framework."""

    framework: str
    files: int = 0
    expected: int = 0
    reported: int = 0
    matched: int = 0
    must_not_flag: int = 0
    misses: list[tuple[Mark, list[Mark]]] = field(default_factory=list)  # marker, what was reported there
    wrong: list[Mark] = field(default_factory=list)
    unresolved_missed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """matched / reported (1.0 when nothing was reported)."""
        return self.matched / self.reported if self.reported else 1.0

    @property
    def recall(self) -> float:
        """matched / expected (1.0 when nothing was expected)."""
        return self.matched / self.expected if self.expected else 1.0


def corpus_files(framework: str) -> list[Path]:
    return sorted((CORPUS / framework).glob("*.py"))


def must_not_flag(text: str, framework: str) -> int:
    """Layer construction lines without an ``# expect:`` marker."""
    pattern = _LAYER_CALL[framework]
    return sum(
        1
        for line in text.splitlines()
        if pattern.search(line.split("#", 1)[0]) and "# expect:" not in line
    )


def score_file(path: Path, score: Score) -> None:
    """Lint one corpus file and add its matches, misses and wrong findings to ``score``."""
    text = path.read_text()
    name = str(path.relative_to(CORPUS.parent.parent))
    expected = {(line, code): severity for line, code, severity in expected_findings(text)}
    score.files += 1
    score.expected += len(expected)
    score.must_not_flag += must_not_flag(text, score.framework)
    result = lint_file(path)
    if result.error:
        score.errors.append(result.error)
    found = [Mark(name, f.line or 0, f.code, f.severity, f.message) for f in result.findings]
    score.reported += len(found)
    matched: set[tuple[int, str]] = set()
    for mark in found:
        key = (mark.line, mark.code)
        if expected.get(key) == mark.severity and key not in matched:
            matched.add(key)
        else:
            score.wrong.append(mark)
    score.matched += len(matched)
    for (line, code), severity in sorted(expected.items()):
        if (line, code) not in matched:
            there = [m for m in found if m.line == line]
            score.misses.append((Mark(name, line, code, severity), there))
    unresolved = {r.origin.line for r in result.records if is_layer(r) and r.unresolved}
    for line in sorted(expected_unresolved(text) - unresolved):
        score.unresolved_missed.append(f"{name}:{line}")


def score_framework(framework: str, paths: Iterable[Path] | None = None) -> Score:
    score = Score(framework)
    for path in corpus_files(framework) if paths is None else paths:
        score_file(path, score)
    return score


def table(scores: Sequence[Score]) -> str:
    """A summary line per framework, then every miss and wrong finding."""
    lines = [f"{'framework':<10}{'files':>6}{'expected':>10}{'reported':>10}{'matched':>9}"
             f"{'precision':>11}{'recall':>8}{'no-flag':>9}"]
    for s in scores:
        lines.append(f"{s.framework:<10}{s.files:>6}{s.expected:>10}{s.reported:>10}{s.matched:>9}"
                     f"{s.precision:>11.3f}{s.recall:>8.3f}{s.must_not_flag:>9}")
    for s in scores:
        if s.errors:
            lines.append(f"\n[{s.framework}] files that could not be linted:")
            lines += [f"  {e}" for e in s.errors]
        if s.misses:
            lines.append(f"\n[{s.framework}] missed (expected, not reported with that severity):")
            for mark, there in s.misses:
                instead = "; ".join(f"{m.code} {m.severity}" for m in there) or "nothing"
                lines.append(f"  {mark.label()}    reported at that line: {instead}")
        if s.wrong:
            lines.append(f"\n[{s.framework}] wrong findings (reported, not expected):")
            for mark in s.wrong:
                lines.append(f"  {mark.label()}    {mark.message[:140]}")
        if s.unresolved_missed:
            lines.append(f"\n[{s.framework}] layers marked expect-unresolved but not recorded as unresolved (informational):")
            lines += [f"  {u}" for u in s.unresolved_missed]
    return "\n".join(lines)
