"""What the torch and Keras fix planners share: a file's context, a planned fix, and when none is possible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from ..frontends.python.names import dotted
from ..records import Finding, LayerRecord
from ..rulebook import rule
from .edits import AddImport, Edit, Tree


@dataclass(frozen=True)
class Planned:
    description: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Context:
    """What one file's fixes share: its tree, import bindings, records and current findings."""

    tree: Tree
    records: Sequence[LayerRecord]
    findings: Sequence[Finding]

    def init_prefix(self) -> tuple[str, tuple[Edit, ...]]:
        """How this file spells ``torch.nn.init.`` (adding ``import torch`` when nothing fits)."""
        bound = self.tree.bindings()
        for qualified, suffix in (("torch.nn.init", "."), ("torch.nn", ".init."), ("torch", ".nn.init.")):
            for local in sorted(bound):
                if bound[local] == qualified:
                    return local + suffix, ()
        return "torch.nn.init.", (AddImport("import torch"),)

    def math_name(self) -> tuple[str, tuple[Edit, ...]]:
        bound = self.tree.bindings()
        for local in sorted(bound):
            if bound[local] == "math":
                return local, ()
        return "math", (AddImport("import math", stdlib=True),)

    def qualify(self, expr: cst.BaseExpression) -> str:
        text = dotted(expr) or ""
        root, _, rest = text.partition(".")
        base = self.tree.bindings().get(root)
        return f"{base}.{rest}" if base and rest else (base or text)


def unfixable(finding: Finding) -> str:
    """Why no framework can fix this finding ('' when a planner may try)."""
    record = finding.record
    if not rule(finding.code).fixable:
        return "no automatic fix for this rule"
    if record is None or finding.line is None or record.origin.line is None:
        return "no source location"
    if not record.is_weight:
        return "not used as a weight: the right scale is unknown; fill it by hand"
    if record.unresolved or record.activation is None or record.init is None:
        return "the layer is unresolved"
    if record.count > 1 or "," in finding.layer:
        return f"this site builds {record.count} layers; fix them by hand"
    if record.normalized and rule(finding.code).when_normalized != "keep":  # advice only: a rewrite is churn
        return "a normalization layer follows, so the weight scale does not set the signal; change it by hand if wanted"
    return ""
