"""initlint's precision and recall on the evaluation corpus (tests/corpus/), per framework.

The corpus is an independent oracle: realistic PyTorch and Keras model files whose expected
findings are derived from the SPEC and marked on the layers' construction lines.
"""

from __future__ import annotations

import ast

import pytest

from .corpus.scoring import FRAMEWORKS, corpus_files, score_framework, table

MIN_PRECISION = 0.95
MIN_RECALL = 0.90


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_corpus_files_are_valid_python(framework: str) -> None:
    paths = corpus_files(framework)
    assert len(paths) >= 10, paths
    for path in paths:
        ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_corpus_scores(framework: str) -> None:
    score = score_framework(framework)
    report = table([score])
    assert score.expected > 0
    assert not score.errors, report
    if score.precision < MIN_PRECISION or score.recall < MIN_RECALL:
        pytest.fail(
            f"{framework}: precision {score.precision:.3f} (need {MIN_PRECISION}), "
            f"recall {score.recall:.3f} (need {MIN_RECALL})\n{report}",
            pytrace=False,
        )
