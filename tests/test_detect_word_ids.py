"""textnorm.WordIds: the word-hash memo a fingerprint detector owns (issue #14)."""

from __future__ import annotations

import numpy as np

from dlp_gateway.detect import textnorm
from dlp_gateway.detect.fingerprints import FingerprintDetector

TEXT = ("The delegation met with the deputy director to review the agenda for the next round "
        "of talks; the host government said the framework is still under review. 機密文件 2026")


def test_winnowing_with_a_memo_gives_the_same_fingerprints_as_without():
    tokens = textnorm.tokenize(TEXT)
    memo = textnorm.WordIds()
    first = textnorm.winnow_tokens(tokens, memo)
    again = textnorm.winnow_tokens(tokens, memo)
    assert np.array_equal(first, textnorm.winnow_tokens(tokens))
    assert np.array_equal(again, first)


def test_the_memo_holds_at_most_its_limit_of_words():
    memo = textnorm.WordIds(limit=5)
    textnorm.winnow_tokens(textnorm.tokenize(TEXT), memo)
    assert len(memo) == 5


def test_each_fingerprint_detector_owns_its_memo(tmp_path):
    first, second = FingerprintDetector(tmp_path / "a"), FingerprintDetector(tmp_path / "b")
    first.match_text(TEXT)
    assert len(first.word_ids) > 0
    assert len(second.word_ids) == 0
