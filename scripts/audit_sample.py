"""A seeded sample of findings from scripts/measure_real.py's JSON, with the source around each (for a hand audit).

Usage: python scripts/audit_sample.py RESULTS.json N SEED > sample.txt
Every error-severity finding is included; the rest is drawn at random (seeded) so that every rule and
severity present appears at least once.
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict


def main(argv: list[str]) -> None:
    with open(argv[0]) as fh:
        data = json.load(fh)
    n, seed = int(argv[1]), int(argv[2])
    findings = [dict(f, package=pkg) for pkg, d in data.items() for f in d["findings"]]
    rng = random.Random(seed)
    chosen = [f for f in findings if f["severity"] == "error"]
    by_kind = defaultdict(list)
    for f in findings:
        by_kind[(f["code"], f["severity"])].append(f)
    for kind in sorted(by_kind):
        pool = [f for f in by_kind[kind] if f not in chosen]
        if pool and not any((c["code"], c["severity"]) == kind for c in chosen):
            chosen.append(rng.choice(pool))
    rest = [f for f in findings if f not in chosen]
    rng.shuffle(rest)
    chosen += rest[: max(0, n - len(chosen))]
    chosen.sort(key=lambda f: (f["package"], f["path"], f["line"]))
    for i, f in enumerate(chosen, 1):
        print(f"=== {i}. [{f['package']}] {f['path']}:{f['line']} {f['code']} {f['severity']} {f['layer']}")
        print(f"    {f['message']}")
        try:
            with open(f["path"]) as fh:
                lines = fh.read().splitlines()
            lo, hi = max(0, f["line"] - 3), min(len(lines), f["line"] + 2)
            for k in range(lo, hi):
                print(f"    {k + 1:5d} {lines[k]}")
        except OSError:
            pass


if __name__ == "__main__":
    main(sys.argv[1:])
