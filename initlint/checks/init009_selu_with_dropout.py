"""INIT009 selu-with-dropout: plain Dropout in a SELU network (use AlphaDropout)."""

from __future__ import annotations

from ..records import LayerRecord, Verdict

CODE = "INIT009"


def check(record: LayerRecord) -> Verdict | None:
    if record.kind != "dropout" or not record.selu_network:
        return None
    alpha = "keras.layers.AlphaDropout" if record.framework == "keras" else "nn.AlphaDropout"
    message = (
        f"plain dropout in {record.scope or 'a network'} that uses SELU: it shifts the mean and variance "
        f"SELU keeps at (0, 1). Use {alpha} with the same rate."
    )
    return Verdict(CODE, "advice", message)
