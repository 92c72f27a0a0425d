"""``examples/model.onnx`` is what ``examples/make_onnx_example.py`` builds, with the findings its docstring promises."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from initlint import audit_onnx

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "model.onnx"
EXPECTED = {
    "/conv2/Conv": ("INIT005", "advice"),
    "/fc1/Gemm": ("INIT001", "warning"),
    "/fc2/Gemm": ("INIT005", "advice"),
    "/gate/Gemm": ("INIT002", "error"),
}


def findings(path: Path) -> dict[str, tuple[str, str]]:
    result = audit_onnx(str(path))
    assert result.error is None, result.error
    return {f.layer: (f.code, f.severity) for f in result.findings}


def test_committed_example() -> None:
    assert EXAMPLE.stat().st_size <= 300 * 1024
    assert findings(EXAMPLE) == EXPECTED


def test_generator_rebuilds_it(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_onnx_example", ROOT / "examples" / "make_onnx_example.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = module.build(tmp_path / "model.onnx")
    assert findings(rebuilt) == EXPECTED
