"""INIT008 on real architectures and constructed deep stacks, beside an independent forward-hook measurement.

Writes the table of ``docs/live-signal.md`` (between its ``<!-- table -->`` markers) or prints it with ``--print``:

    python benchmarks/init008_models.py [--print] [--quick]

For each model: initlint's INIT008 verdict and the endpoints it compares (SPEC 8.36); the same endpoints
measured independently (forward hooks on every weight module, every call, no initlint code: the output's
std over all elements and the gradient's per-sample norm sqrt(sum g^2 / batch) from ``sum(output * R)``);
and the ratios after ``initlint.apply_recommended_init``. torchvision's architectures come from the
verbatim copy in ``tests/vendor/torchvision_0_28`` (see ``scripts/vendor_torchvision.py``).
"""

from __future__ import annotations

import argparse
import copy
import math
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from initlint import apply_recommended_init, check_model  # noqa: E402
from initlint.formulas import signal_body  # noqa: E402
from tests.live_targets.signal_cases import Reused, default_relu_mlp, tapering_normal_mlp, zero_layer_mlp  # noqa: E402
from tests.vendor.torchvision_0_28.models import (  # noqa: E402
    efficientnet,
    mobilenetv3,
    resnet,
    vgg,
    vision_transformer,
)

WEIGHTS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
QUIET = ("Dropout", "StochasticDepth", "DropPath")

# name -> (factory, input shape, expected to fire)
MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], bool]] = {
    "resnet18": (resnet.resnet18, (16, 3, 64, 64), False),
    "resnet50": (resnet.resnet50, (8, 3, 64, 64), False),
    "vgg11": (vgg.vgg11, (8, 3, 32, 32), False),
    "mobilenet_v3_small": (mobilenetv3.mobilenet_v3_small, (16, 3, 64, 64), False),
    "efficientnet_b0": (efficientnet.efficientnet_b0, (8, 3, 64, 64), False),
    "vit_b_16 (image_size=64)": (lambda: vision_transformer.vit_b_16(image_size=64), (8, 3, 64, 64), False),
    "default-init ReLU MLP, 50 layers": (default_relu_mlp, (128, 128), True),
    "N(0,1) ReLU MLP tapering 256->96": (tapering_normal_mlp, (128, 256), True),
    "one default-init layer reused 20x": (Reused, (128, 128), True),
    "He MLP with one zero layer": (zero_layer_mlp, (128, 64), True),
}
QUICK = ("resnet18", "vgg11", "default-init ReLU MLP, 50 layers", "one default-init layer reused 20x")


def hook_measure(model: nn.Module, shape: tuple[int, ...], seed: int = 0) -> dict[str, tuple[float, float]]:
    """Independent measurement: call label -> (forward std, gradient norm per sample) for every weight-module call.

    Model in train mode, dropout and stochastic depth in eval mode; the input and R drawn as SPEC 8.18
    says from one seeded generator. nn.MultiheadAttention's out_proj is called functionally, so its
    output is taken from the attention module's output (the same tensor).
    """
    model = copy.deepcopy(model).train()
    for module in model.modules():
        if type(module).__name__ in QUIET:
            module.eval()
    outputs: list[tuple[str, torch.Tensor]] = []
    count: dict[str, int] = defaultdict(int)

    def hook(name: str) -> Callable[..., torch.Tensor]:
        def keep(_module: nn.Module, _inputs: Any, output: Any) -> Any:
            tensor = output[0] if isinstance(output, tuple) else output
            count[name] += 1
            outputs.append((name if count[name] == 1 else f"{name} (call {count[name]})", tensor))
            clone = tensor.clone()  # in-place activations downstream must not touch it
            return (clone, *output[1:]) if isinstance(output, tuple) else clone
        return keep

    for name, module in model.named_modules():
        if isinstance(module, WEIGHTS) and not name.endswith("out_proj"):
            module.register_forward_hook(hook(name))
        elif isinstance(module, nn.MultiheadAttention):
            module.register_forward_hook(hook(f"{name}.out_proj"))
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator).requires_grad_(True)
    out = model(x)
    loss = (out * torch.randn(out.shape, generator=generator)).sum()
    grads = torch.autograd.grad(loss, [t for _, t in outputs], allow_unused=True)
    result = {}
    for (label, tensor), grad in zip(outputs, grads):
        g = torch.zeros_like(tensor) if grad is None else grad
        result[label] = (float(tensor.detach().double().std()), float(g.double().pow(2).sum().div(shape[0]).sqrt()))
    return result


def endpoints(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    result = check_model(model, shape)
    body = signal_body(result.signal.curve)
    fired = [f for f in result.findings if f.code == "INIT008"]
    first, last = body[0], body[-1]
    return {"fires": bool(fired), "message": fired[0].message if fired else "", "first": first, "last": last,
            "calls": len(result.signal.curve)}


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return "overflow"
    if a == 0 and b == 0:
        return "0 -> 0"
    if a == 0:
        return "from 0"
    return f"{b / a:.3g}"


def num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def row(name: str, factory: Callable[[], nn.Module], shape: tuple[int, ...], expected: bool) -> str:
    torch.manual_seed(0)
    model = factory()
    start = time.perf_counter()
    found = endpoints(model, shape)
    hooks = hook_measure(model, shape)
    first, last = found["first"], found["last"]
    ind = [hooks.get(first.layer), hooks.get(last.layer)]
    torch.manual_seed(1)
    apply_recommended_init(model, shape)
    after = endpoints(model, shape)
    seconds = time.perf_counter() - start
    independent_f = ratio(ind[0][0], ind[1][0]) if all(ind) else "n/a (not a module call)"
    independent_g = ratio(ind[0][1], ind[1][1]) if all(ind) else "n/a"
    verdict = "fires" if found["fires"] else "silent"
    mark = "" if found["fires"] == expected else " **(unexpected)**"
    return (
        f"| {name} | {','.join(map(str, shape))} | {verdict}{mark} | `{first.layer}` -> `{last.layer}` "
        f"({found['calls']} calls) "
        f"| {num(first.forward_std)} -> {num(last.forward_std)}: {ratio(first.forward_std, last.forward_std)} "
        f"| {independent_f} "
        f"| {num(first.grad_norm)} -> {num(last.grad_norm)}: {ratio(first.grad_norm, last.grad_norm)}"
        f"{' (not compared: normalized)' if first.normalized or last.normalized else ''} "
        f"| {independent_g} "
        f"| {ratio(after['first'].forward_std, after['last'].forward_std)} / "
        f"{ratio(after['first'].grad_norm, after['last'].grad_norm)}, {'fires' if after['fires'] else 'silent'} "
        f"| {seconds:.0f} s |"
    )


HEADER = (
    "| model | input | INIT008 | endpoints compared | forward std (initlint) | forward ratio (hooks) "
    "| gradient norm per sample (initlint) | gradient ratio (hooks) | after `apply_recommended_init`: fwd / grad "
    "ratio, INIT008 | time |\n|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the table instead of writing the docs")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    args = parser.parse_args()
    names = QUICK if args.quick else tuple(MODELS)
    lines = [HEADER]
    for name in names:
        lines.append(row(name, *MODELS[name]))
        print(lines[-1], file=sys.stderr)
    table = "\n".join(lines)
    if args.print or args.quick:
        print(table)
        return
    doc = ROOT / "docs" / "live-signal.md"
    text = doc.read_text()
    text = re.sub(r"<!-- table -->.*<!-- /table -->", f"<!-- table -->\n{table}\n<!-- /table -->", text, flags=re.DOTALL)
    doc.write_text(text)


if __name__ == "__main__":
    main()
