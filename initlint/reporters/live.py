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

from ..formulas import gradient_comparable, signal_body
from ..records import LiveResult, Report, SignalPoint
from . import json as json_reporter
from . import text as text_reporter

COLUMNS = (
    ("layer", "layer"), ("type", "type"), ("shape", "shape"), ("fan_in", "fan_in"), ("fan_out", "fan_out"),
    ("measured_std", "std"), ("scheme", "scheme"), ("consumer", "consumer"), ("required_std", "need"),
    ("ratio", "ratio"), ("forward_std", "fwd std"), ("grad_norm", "grad norm"), ("verdict", "verdict"),
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
        if key == "grad_norm" and not gradient_comparable(body):
            parts.append(f"{label} {_num(a)} -> {_num(b)} (not compared: the endpoints feed a normalization)")
        elif a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or a <= 0 or b <= 0:
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


def _segments(xs: Sequence[int], ys: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive positive finite values: no line is drawn across a zero, a gap or an overflow."""
    runs: list[list[tuple[int, float]]] = [[]]
    for x, y in zip(xs, ys):
        if y is not None and math.isfinite(y) and y > 0:
            runs[-1].append((x, y))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _verdict(result: LiveResult) -> str:
    found = [f for f in result.findings if f.code == "INIT008"]
    body = signal_body(_curve(result))
    note = "" if gradient_comparable(body) else "; gradients not compared (the endpoints feed a normalization)"
    if not found:
        return f"INIT008: no finding (threshold {result.signal.threshold if result.signal else 10:g}x){note}"
    text = found[0].message.split(": ", 1)[-1].split(". Curve")[0]
    return "INIT008: " + (text if len(text) < 160 else text[:157] + "...")


def plot(result: LiveResult, path: str) -> None:
    """The signal curve a person reads at a glance (PNG at 150 dpi).

    Forward std and gradient norm per sample for every weight-layer call on a log scale. Filled
    markers are the measured path INIT008 compares; hollow ones are left out of it (heads,
    residual-branch ends, layers on pooled vectors). The two endpoints are ringed, the band is the
    threshold around the first endpoint (the last must stay inside it), exact zeros sit on a "0" row
    at the bottom and lines never bridge them; the verdict is the subtitle.
    """
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("--plot needs matplotlib (pip install 'initlint[plot]')") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = _curve(result)
    threshold = result.signal.threshold if result.signal else 10.0
    body = signal_body(curve)
    on_path = {id(p) for p in body}
    xs = list(range(len(curve)))
    values = [v for p in curve for v in (p.forward_std, p.grad_norm)
              if v is not None and math.isfinite(v) and v > 0]
    floor = min(values) / 10 if values else 1e-3
    fig, ax = plt.subplots(figsize=(min(16.0, max(7.0, 0.16 * len(curve) + 4)), 5.2), layout="constrained")
    for key, label, colour in (("forward_std", "forward std", "tab:blue"),
                               ("grad_norm", "gradient norm per sample", "tab:orange")):
        ys = [getattr(p, key) for p in curve]
        for i, run in enumerate(_segments(xs, ys)):
            ax.plot([x for x, _ in run], [y for _, y in run], color=colour, linewidth=1.2,
                    label=label if i == 0 else None)
        shift = -0.15 if key == "forward_std" else 0.15  # zeros of both signals side by side on the "0" row
        for x, p, y in zip(xs, curve, ys):
            if y is None:
                continue
            zero = not (math.isfinite(y) and y > 0)
            filled = id(p) in on_path
            ax.plot([x + shift if zero else x], [floor if zero else y], marker="v" if zero else "o", markersize=5,
                    color=colour, markerfacecolor=colour if filled else "white", linestyle="none")
        if key == "grad_norm" and not gradient_comparable(body):
            continue  # not compared: no endpoints, no band
        ends = [(x, getattr(p, key)) for x, p in zip(xs, curve) if body and p in (body[0], body[-1])]
        ends = [(x, y) for x, y in ends if y is not None and math.isfinite(y) and y > 0]
        if ends:
            ax.plot([x for x, _ in ends], [y for _, y in ends], marker="o", markersize=11, linestyle="none",
                    markerfacecolor="none", markeredgecolor=colour, markeredgewidth=1.5)
        start = getattr(body[0], key) if body else None
        if start is not None and math.isfinite(start) and start > 0:
            ax.axhspan(start / threshold, start * threshold, color=colour, alpha=0.07)
    ax.axhline(floor, color="grey", linewidth=0.6, linestyle=":")
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor / 2)
    ax.text(-0.5, floor, "0 ", ha="right", va="center", fontsize=9, color="grey")
    step = max(1, math.ceil(len(curve) / 60))
    ax.set_xticks(xs[::step])
    ax.set_xticklabels([curve[i].layer for i in xs[::step]], rotation=90, fontsize=8)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_xlabel("weight-layer call, in execution order", fontsize=9)
    ax.set_ylabel(f"on one batch, input {','.join(map(str, result.input_shape))}", fontsize=9)
    ax.set_title(f"{result.model}: signal propagation\n{_verdict(result)}", fontsize=10, loc="left", wrap=True)
    from matplotlib.lines import Line2D

    keys = [
        Line2D([], [], marker="o", color="grey", linestyle="none", label="on the path INIT008 compares"),
        Line2D([], [], marker="o", color="grey", markerfacecolor="white", linestyle="none",
               label="left out (head, residual end, pooled)"),
        Line2D([], [], marker="o", markersize=10, color="grey", markerfacecolor="none", linestyle="none",
               label="the endpoints compared"),
        Line2D([], [], marker="v", color="grey", linestyle="none", label="exactly 0"),
    ]
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + keys, fontsize=8, loc="best",
              title=f"band: {threshold:g}x around the first endpoint", title_fontsize=8)
    fig.savefig(path, dpi=150)
    plt.close(fig)
