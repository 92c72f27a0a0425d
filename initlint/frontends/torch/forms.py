"""Consumer forms of real models that the data-flow pass recognises beyond plain activations.

- attention products (``q @ k.transpose(-2, -1)``, ``torch.matmul(attn, v)``, ``F.scaled_dot_product_attention``,
  ``nn.MultiheadAttention``, an ``attention_interface`` / ``eager_attention_forward`` call): the projections
  feeding them are consumed linearly, as by a weight layer without activation (``linear``);
- losses (``nn.CrossEntropyLoss()(logits, y)``, ``F.mse_loss``): what they judge is the model's output (a head);
- output containers (``BaseModelOutput(last_hidden_state=x)``, ``GoogLeNetOutputs(...)``, same-file
  ``ModelOutput`` dataclasses and named tuples): a tuple of their values, returned like any tuple (SPEC 8.13);
- same-file normalization classes (RMSNorm-like: ``x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)``):
  a normalization between a layer and its activation (SPEC 8.1).

Pure helpers over names and syntax: the pass itself (``flow``) applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst

from ..python.names import dotted
from ..python.syntax import suite

ATTENTION_FUNCTIONS = frozenset({"scaled_dot_product_attention", "multi_head_attention_forward"})
# Callables (local names or attributes) that run attention over (module, q, k, v, ...) or (q, k, v, ...).
_ATTENTION_NAME = re.compile(
    r"(^|_)(attention_interface|attention_forward|attn_forward|sdpa_attention_forward|dispatch_attention_fn)$")
ATTENTION_MODULES = frozenset({"MultiheadAttention"})
LOSS_FUNCTIONS = frozenset({
    "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "multi_margin_loss", "hinge_embedding_loss", "ctc_loss", "margin_ranking_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "multilabel_margin_loss",
})
_OUTPUT_NAME = re.compile(r"[A-Za-z0-9]*(Output|Outputs)(With[A-Za-z0-9]+)?$")  # BaseModelOutputWithPooling
_OUTPUT_BASES = frozenset({"ModelOutput", "BaseOutput", "NamedTuple", "namedtuple"})


def is_attention_call(name: str) -> bool:
    """``attention_interface(...)``, ``eager_attention_forward(...)``, ``F.scaled_dot_product_attention(...)``."""
    last = name.rsplit(".", 1)[-1]
    return last in ATTENTION_FUNCTIONS or bool(_ATTENTION_NAME.search(last))


def is_loss_module(cls: str) -> bool:
    """A ``torch.nn`` loss class (``CrossEntropyLoss``, ``MSELoss``, ``BCEWithLogitsLoss``)."""
    return cls.endswith("Loss")


def is_output_name(name: str) -> bool:
    """An output container class by name (``BaseModelOutputWithPooling``, ``GoogLeNetOutputs``, ``DecoderOutput``);
    a module class named so (BERT's ``BertSelfOutput``) is told apart by what it derives from."""
    return bool(_OUTPUT_NAME.fullmatch(name.rsplit(".", 1)[-1]))


def is_output_class(node: cst.ClassDef | None, foreign_bases: list[str]) -> bool:
    """A same-file class that only holds outputs: a ``ModelOutput``/``BaseOutput`` dataclass or a named tuple."""
    if node is None:
        return False
    bases = {b.rsplit(".", 1)[-1] for b in foreign_bases}
    for arg in node.bases:
        value = arg.value
        if isinstance(value, cst.Call):
            value = value.func  # namedtuple("X", ...) / NamedTuple(...)
        if isinstance(value, (cst.Attribute, cst.Name)):
            bases.add(value.attr.value if isinstance(value, cst.Attribute) else value.value)
    return bool(bases & _OUTPUT_BASES)


@dataclass(frozen=True)
class OutputVal:
    """An output container: its values by keyword, and positionally (HF ``outputs[0]``, ``outputs.logits``)."""

    fields: tuple[tuple[str, object], ...]
    items: tuple[object, ...]

    def get(self, name: str) -> object:
        return next((v for k, v in self.fields if k == name), None)

    def values(self) -> tuple[object, ...]:
        return self.items + tuple(v for _, v in self.fields)


@lru_cache(maxsize=256)  # asked for every call of a module in every forward; nodes hash by identity
def norm_like(name: str, fn: cst.FunctionDef | None) -> bool:
    """Whether a same-file module normalizes its input (RMSNorm, a LayerNorm written out, ``LayerNorm2d``).

    Both the name and the code must say so: a class named ``...Norm...`` whose ``forward`` calls
    ``layer_norm`` / ``rms_norm`` / ``group_norm`` or divides by a statistic of its input (a reciprocal
    square root, ``sqrt``, ``std`` or ``norm`` next to a ``mean`` / ``var`` / ``pow(2)``).
    """
    if fn is None or "Norm" not in name:
        return False
    code = cst.Module(body=[fn]).code
    if re.search(r"\b(layer_norm|rms_norm|group_norm|batch_norm|instance_norm|normalize)\s*\(", code):
        return True
    stats = re.search(r"\b(mean|var|std)\s*\(|\.pow\(\s*2|\*\*\s*2|\bsquare\s*\(", code) is not None
    root = re.search(r"\b(rsqrt|sqrt|std|norm)\s*\(", code) is not None
    return stats and root


def tied_keys(node: cst.ClassDef | None, attribute: str) -> list[str]:
    """The layers a class attribute names as tied (``_tied_weights_keys = {"lm_head.weight": ...}``)."""
    if not attribute or node is None:
        return []
    out = []
    for stmt in suite(node.body):
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and stmt.body else None
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and dotted(small.targets[0].target) == attribute:
            value = small.value
            items = [e.key for e in value.elements if isinstance(e, cst.DictElement)] if isinstance(value, cst.Dict) \
                else [e.value for e in value.elements] if isinstance(value, (cst.List, cst.Tuple)) else []
            for item in items:
                text = item.evaluated_value if isinstance(item, cst.SimpleString) else None
                if isinstance(text, str) and text.endswith(".weight") and text.count(".") == 1:
                    out.append(text[:-len(".weight")])
    return out
