"""INIT009 selu-with-dropout: plain Dropout in a SELU network (use AlphaDropout)."""

from __future__ import annotations

from ..records import LayerRecord, Verdict
from .common import verdict

CODE = "INIT009"


def check(record: LayerRecord) -> Verdict | None:
    if record.kind != "dropout" or not record.selu_network:
        return None
    alpha = "keras.layers.AlphaDropout" if record.framework == "keras" else "nn.AlphaDropout"
    headline = f"plain dropout in {record.scope or 'a network'} that uses SELU"
    detail = ("it shifts the mean and variance SELU keeps at (0, 1).",)
    return verdict(CODE, "advice", headline, detail=detail, hint=f"Use {alpha} with the same rate.")
