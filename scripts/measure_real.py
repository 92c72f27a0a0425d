"""Resolved share and findings of initlint on real packages (SPEC 8.32 measurement; not a test).

Usage: python scripts/measure_real.py [--framework torch|keras] OUT.json NAME=DIR [NAME=DIR ...]
Writes every finding and per-package counts of the framework's weight layers (resolved / unresolved, top
reasons, how many findings know both fans).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

from initlint import api
from initlint.records import is_layer
from initlint.settings import Settings


def main(argv: list[str]) -> None:
    framework = "torch"
    if argv[:1] == ["--framework"]:
        framework, argv = argv[1], argv[2:]
    out_path, pairs = argv[0], [a.split("=", 1) for a in argv[1:]]
    out: dict[str, object] = {}
    for name, folder in pairs:
        t0 = time.perf_counter()
        report = api.lint_paths([folder], Settings(timeout=0), jobs=2)
        took = time.perf_counter() - t0
        layers = [(r.path, rec) for r in report.results for rec in r.records if is_layer(rec) and rec.framework == framework]
        total = sum(rec.count for _, rec in layers)
        resolved = sum(rec.count for _, rec in layers if not rec.unresolved)
        reasons = Counter()
        for _, rec in layers:
            if rec.unresolved:
                reasons[rec.unresolved[:90]] += rec.count
        findings = [{"path": f.path, "line": f.line, "code": f.code, "severity": f.severity, "layer": f.layer,
                     "fans": [f.record.fan_in, f.record.fan_out] if f.record is not None else None,
                     "message": f.message} for f in report.findings]
        fw_paths = {p for p, _ in layers}
        fw_findings = [f for f in report.findings if f.path in fw_paths and f.record is not None
                       and f.record.framework == framework]
        fans = sum(1 for f in fw_findings if f.record.fan_in and f.record.fan_out)
        findings = [f for f in findings if f["path"] in fw_paths]
        print(f"{name}: {len(report.results)} files, {total} {framework} weight layers, resolved {resolved} "
              f"({100 * resolved / max(total, 1):.1f} %), findings {len(findings)} "
              f"{dict(Counter(f['code'] + ':' + f['severity'] for f in findings))}, both fans known "
              f"{fans}/{len(fw_findings)}  [{took:.0f}s]", flush=True)
        for reason, n in reasons.most_common(12):
            print(f"    {n:6d}  {reason}")
        out[name] = {"files": len(report.results), "layers": total, "resolved": resolved, "findings": findings,
                     "reasons": reasons.most_common(60), "errors": report.errors[:50], "seconds": took}
    with open(out_path, "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1].startswith("-") and sys.argv[1] != "--framework":
        sys.exit(__doc__)
    main(sys.argv[1:])
