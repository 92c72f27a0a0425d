"""Reporting a live check: the per-layer table, the JSON document and the signal plot.

The JSON document is the usual one (``version``, ``findings``, ``summary``) plus
``model``, ``input_shape``, ``tracer``, ``layers`` (one row per weight layer) and
``signal`` (the INIT008 curve: forward and gradient std per layer, the threshold).
Non-finite numbers (an overflowing signal) are written as null.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from ..formulas import signal_body
from ..records import LiveResult, Report, SignalPoint
from . import json as json_reporter
from . import text as text_reporter

COLUMNS = (
    ("layer", "layer"), ("type", "type"), ("shape", "shape"), ("fan_in", "fan_in"), ("fan_out", "fan_out"),
    ("measured_std", "std"), ("scheme", "scheme"), ("consumer", "consumer"), ("required_std", "need"),
    ("ratio", "ratio"), ("forward_std", "fwd std"), ("grad_std", "grad std"), ("verdict", "verdict"),
)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "shape":
        return "x".join(str(d) for d in value)
    if key == "consumer" and isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _consumer(row: dict[str, Any]) -> str:
    name = row.get("consumer")
    if name is None:
        return "?"
    return f"{name} (norm)" if row.get("normalized") else str(name)


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The per-layer table as aligned text."""
    cells = [[title for _, title in COLUMNS]]
    for row in rows:
        cells.append([
            _consumer(row) if key == "consumer" else _cell(key, row.get(key)) for key, _ in COLUMNS
        ])
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells) + "\n"


def curve_text(result: LiveResult) -> str:
    """``signal (fc0 -> fc48, 49 calls): forward std 0.58 -> 0.054 (/11), gradient norm ... (x2.2e+19)``.

    The endpoints INIT008 compares (SPEC 8.36): the first weight-layer call and the last one before the head.
    """
    body = signal_body(_curve(result))
    if len(body) < 2:
        return "signal: fewer than two weight-layer calls before the head\n"
    first, last = body[0], body[-1]
    parts = []
    for key, label in (("forward_std", "forward std"), ("grad_norm", "gradient norm per sample")):
        a, b = getattr(first, key), getattr(last, key)
        if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or a <= 0 or b <= 0:
            parts.append(f"{label} {_num(a)} -> {_num(b)}")
        else:
            parts.append(f"{label} {a:.3g} -> {b:.3g} ({_factor(b / a)})")
    return f"signal ({first.layer} -> {last.layer}, {len(body)} calls): " + ", ".join(parts) + "\n"


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if math.isfinite(x) else "overflow"


def _factor(ratio: float) -> str:
    return f"x{ratio:.3g}" if ratio >= 1 else f"/{1 / ratio:.3g}"


def render_text(result: LiveResult, colour: bool = False) -> str:
    """Table, signal line, findings and the summary line."""
    report = Report((result,))
    head = f"{result.model} on input {','.join(map(str, result.input_shape))} (consumers by {result.tracer} tracing)\n"
    unresolved = "".join(
        f"unresolved {row['layer']}: {row['unresolved']}\n" for row in result.layers if row.get("unresolved")
    )
    return head + table(result.layers) + curve_text(result) + unresolved + text_reporter.render(report, False, colour)


def document(result: LiveResult) -> dict[str, Any]:
    """The JSON document of a live check (see the module docstring)."""
    doc = json_reporter.document(Report((result,)))
    doc.update({
        "model": result.model,
        "input_shape": list(result.input_shape),
        "tracer": result.tracer,
        "layers": [clean(row) for row in result.layers],
        "signal": {
            "threshold": result.signal.threshold if result.signal else None,
            "curve": [clean(_point(point)) for point in _curve(result)],
        },
    })
    return doc


def _curve(result: LiveResult) -> tuple[SignalPoint, ...]:
    return result.signal.curve if result.signal else ()


def _point(point: SignalPoint) -> dict[str, Any]:
    row = asdict(point)
    row["shape"] = list(point.shape) if point.shape is not None else None
    return row


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copy: non-finite floats become null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def plot(result: LiveResult, path: str) -> None:
    """Forward and gradient std per weight layer on a log scale, with the threshold band around the first layer."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("--plot needs matplotlib (pip install 'initlint[plot]')") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = _curve(result)
    threshold = result.signal.threshold if result.signal else 0.0
    xs = list(range(len(curve)))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.12 * len(curve) + 4), 4.5))
    for key, label, colour in (("forward_std", "forward std", "tab:blue"), ("grad_std", "gradient std", "tab:orange")):
        ys = [getattr(p, key) for p in curve]
        pts = [(x, y) for x, y in zip(xs, ys) if y is not None and math.isfinite(y) and y > 0]
        if pts:
            ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", markersize=3, label=label, color=colour)
            ref = pts[0][1]
            ax.axhline(ref, color=colour, linestyle=":", linewidth=1)
            ax.axhspan(ref / threshold, ref * threshold, color=colour, alpha=0.06)
    heads = [x for x, p in zip(xs, curve) if p.head]
    for x in heads:
        ax.axvline(x, color="grey", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels([p.layer for p in curve], rotation=90, fontsize=6)
    ax.set_xlabel("weight layer (execution order; dashed: output head)")
    ax.set_ylabel("std on one N(0,1) batch")
    ax.set_title(f"{result.model}: signal propagation (band: {threshold:g}x around the first layer)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
