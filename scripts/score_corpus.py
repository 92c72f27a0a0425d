"""Print initlint's precision/recall table on the evaluation corpus (tests/corpus/) without asserting.

    python scripts/score_corpus.py            # both frameworks
    python scripts/score_corpus.py torch      # one framework
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.corpus.scoring import FRAMEWORKS, score_framework, table  # noqa: E402


def main(argv: list[str]) -> int:
    frameworks = [f for f in argv if f in FRAMEWORKS] or list(FRAMEWORKS)
    print(table([score_framework(f) for f in frameworks]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
