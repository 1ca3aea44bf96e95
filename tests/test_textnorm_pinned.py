"""Fingerprint values pinned as computed before the winnowing code was optimised.

The register and the trace store hold these hashes: a faster implementation must give
the same values bit for bit (or bump WINNOW_VERSION and re-register).
"""

from __future__ import annotations

import hashlib

from dlp_gateway.detect import textnorm

LATIN = ("The delegation met with the deputy director to review the agenda for the next round of talks. "
         "Host government officials indicated that the framework is still under interagency review. "
         "Please find attached the draft programme.")
CJK = "本處已洽請對方於會後提供相關資料，俾利研析。經洽相關智庫學者，渠等研判短期內情勢將維持穩定。"
MIXED = "機密 Confidential: 有關雙邊經貿諮商會議籌備事宜 the trade figures 2026-03 will be published ＦＵＬＬ-width 发展 髮"


def _long_text() -> str:
    """3,000 words with repeats, CJK, accents and line breaks (a fixed pseudo-random draw)."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "機密", "文件", "發展", "资料", "ÉTÉ", "straße", "2026"]
    x, out = 12345, []
    for i in range(3000):
        x = (x * 1103515245 + 12345) % (1 << 31)
        out.append(words[x % len(words)])
        if i % 17 == 0:
            out.append(".\n")
    return " ".join(out)


def test_latin_text_fingerprints_are_unchanged():
    assert textnorm.to_signed(textnorm.winnow(LATIN)) == [
        576910345668293842, 1345940343297387428, 2538552925191659165, 2593156445086436482,
        4240873985295886656, -6758862004751409429,
    ]


def test_cjk_text_fingerprints_are_unchanged():
    assert textnorm.to_signed(textnorm.winnow(CJK)) == [
        726258309423710489, 1083620369170270813, 1813323868042402907, 2590555516868242335,
    ]


def test_mixed_script_text_fingerprints_are_unchanged():
    assert textnorm.to_signed(textnorm.winnow(MIXED)) == [
        47415349455326103, 201671333670390715, 881527051093477018, 1154311093681883978, 2741540892452447510,
    ]


def test_text_shorter_than_one_window_keeps_its_minimum():
    assert textnorm.to_signed(textnorm.winnow("one two three four five")) == [8124898172616293578]


def test_text_shorter_than_one_kgram_has_no_fingerprints():
    assert len(textnorm.winnow("hi")) == 0


def test_long_text_fingerprints_are_unchanged():
    fingerprints = textnorm.winnow(_long_text())
    assert len(fingerprints) == 785
    assert hashlib.sha256(textnorm.pack(fingerprints)).hexdigest() == (
        "a32887217e353ca421a3caa2f83ba12180894f44e1aebedd8df402a0a10516c3")


def test_exact_text_hash_is_unchanged():
    assert textnorm.text_hash(textnorm.tokenize(MIXED)) == (
        "4390ad07b49a51adf45f1be80f0ac0eef64f52d7722da1ade1d6d93a6f9e1cc9")
