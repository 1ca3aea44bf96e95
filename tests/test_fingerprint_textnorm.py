"""Normalisation and winnowing: the same text in any dress gives the same fingerprints."""

from __future__ import annotations

import fingerprint_corpus as corpus
import numpy as np
import opencc

from dlp_gateway.detect import textnorm


def shared(a: str, b: str) -> float:
    """Share of a's fingerprints found in b."""
    fa, fb = textnorm.winnow(a), textnorm.winnow(b)
    return len(np.intersect1d(fa, fb)) / len(fa)


def test_simplified_and_traditional_script_normalise_alike():
    simplified = opencc.OpenCC("t2s").convert(corpus.CABLE)
    assert simplified != corpus.CABLE
    assert textnorm.text_hash(textnorm.tokenize(simplified)) == textnorm.text_hash(textnorm.tokenize(corpus.CABLE))


def test_full_width_forms_spacing_and_punctuation_do_not_matter():
    spaced = "機　密 ｜ ＡＢＣ　Report，\n第 ２ 頁"
    plain = "機密ABC report第2頁"
    assert textnorm.tokenize(spaced) == textnorm.tokenize(plain)


def test_line_breaks_and_layout_do_not_change_the_fingerprints():
    relaid = "\n".join(corpus.wrap(corpus.CABLE, 17))
    assert np.array_equal(textnorm.winnow(relaid), textnorm.winnow(corpus.CABLE))


def test_cjk_is_fingerprinted_by_characters_and_latin_by_words():
    tokens = textnorm.tokenize("外交部 memo: Trade talks 2026")
    assert tokens.cjk == "外交部"
    assert tokens.words == ("memo", "trade", "talks", "2026")


def test_fingerprints_are_stable_across_processes():
    # The register and the trace index store these values: they must never depend on
    # process state (Python's hash randomisation) — a known text has a known fingerprint.
    first = textnorm.winnow(corpus.CABLE)
    again = textnorm.winnow(corpus.CABLE[:])
    assert np.array_equal(first, again)
    assert first.dtype == np.uint64 and len(first) > 40
    assert textnorm.unpack(textnorm.pack(first)).tolist() == first.tolist()


def test_a_pasted_paragraph_keeps_most_of_its_fingerprints():
    paragraph = corpus.paragraphs(corpus.CABLE)[2]
    mail = "各位好，轉知如下：\n" + paragraph + "\n謝謝。"
    assert shared(paragraph, mail) > 0.9
    assert shared(paragraph, corpus.CABLE) > 0.9


def test_text_on_the_same_subject_shares_almost_nothing():
    assert shared(corpus.SAME_SUBJECT, corpus.CABLE) < 0.1
    assert shared(corpus.MEMO_SAME_SUBJECT, corpus.MEMO) < 0.1


def test_ocr_style_errors_leave_most_fingerprints_intact():
    # One character in 40 misread, as a mediocre scan does.
    noisy = "".join("口" if i % 40 == 39 else c for i, c in enumerate(corpus.CABLE))
    assert shared(corpus.CABLE, noisy) > 0.5


def test_winnowing_density_is_small():
    fingerprints = textnorm.winnow(corpus.CABLE)
    characters = len(textnorm.tokenize(corpus.CABLE).cjk)
    assert len(fingerprints) < characters / 4


def test_empty_and_tiny_texts_have_no_fingerprints_to_match_on():
    assert len(textnorm.winnow("")) == 0
    assert len(textnorm.winnow("好")) == 0
