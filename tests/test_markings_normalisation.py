"""A marking hidden by invisible characters, look-alike letters, compatibility forms or
spaced-out letters is found with its correct level (#12, "text normalisation").

Each case is a real message (docgen.make_message) run through the relay's inspection
(`pipeline.inspect_message`: extraction, then every detector), so the text reaches the
marking grammar the way it would in the gateway.
"""

from __future__ import annotations

import docgen
import pytest

from dlp_gateway.config import load_settings
from dlp_gateway.detect.textnorm import normalize_markings
from dlp_gateway.model import Level
from dlp_gateway.pipeline import WorkerContext, inspect_message

TS, S, C = Level.TOP_SECRET, Level.SECRET, Level.CONFIDENTIAL
MEMO = "Subject: talks with the host government\n\nThe delegation met the deputy minister today.\n"
LETTER = "主旨：有關雙邊經貿諮商會議籌備事宜，請查照。\n說明：請依規定辦理。\n"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> WorkerContext:
    settings = load_settings(None, {"data_dir": str(tmp_path_factory.mktemp("data"))})
    return WorkerContext.from_settings(settings)


def level_of(ctx: WorkerContext, body: str) -> Level | None:
    return inspect_message(docgen.make_message("weekly report", body), ctx).level


def us_memo(banner: str) -> str:
    return f"{banner}\n{MEMO}{banner}\n"


@pytest.mark.parametrize("banner", [
    "SE\u00adCRET//NOFORN",  # soft hyphen
    "SE\u200bCRET//NOFORN",  # zero-width space
    "SEC\u200cRET//NOFORN",  # zero-width non-joiner
    "SECR\u200dET//NOFORN",  # zero-width joiner
    "SEC\u2060RET//NOFORN",  # word joiner
    "SE\ufeffCRET//NOFORN",  # BOM inside the word
])
def test_invisible_characters_inside_a_us_banner_do_not_hide_it(ctx, banner):
    assert level_of(ctx, us_memo(banner)) == S


@pytest.mark.parametrize(("banner", "expected"), [
    ("極\u200b機\u200b密", S),
    ("機\u00ad密", C),
    ("絕\ufeff對機密", TS),
])
def test_invisible_characters_inside_a_roc_level_do_not_hide_it(ctx, banner, expected):
    assert level_of(ctx, f"{banner}\n{LETTER}") == expected


@pytest.mark.parametrize(("banner", "expected"), [
    ("\u0405\u0415\u0421R\u0415\u0422//NOFORN", S),  # Cyrillic Ѕ Е С Е Т
    ("S\u0415\u0421R\u0415T//NOFORN", S),  # Latin S with Cyrillic Е С
    ("\u03a4\u039f\u03a1 SECRET//NOFORN", TS),  # Greek Τ Ο Ρ
    ("\u0421\u041eNFIDENTIAL//NOFORN", C),  # Cyrillic С О
])
def test_cyrillic_and_greek_look_alikes_in_a_banner_are_read_as_latin(ctx, banner, expected):
    assert level_of(ctx, us_memo(banner)) == expected


@pytest.mark.parametrize(("banner", "expected"), [
    ("\U0001d412\U0001d404\U0001d402\U0001d411\U0001d404\U0001d413//NOFORN", S),  # mathematical bold
    ("\U0001d413\U0001d40e\U0001d40f \U0001d412\U0001d404\U0001d402\U0001d411\U0001d404\U0001d413//NOFORN", TS),
])
def test_compatibility_forms_of_letters_are_folded_as_nfkc_does(ctx, banner, expected):
    assert level_of(ctx, us_memo(banner)) == expected


@pytest.mark.parametrize(("banner", "expected"), [
    ("S  E  C  R  E  T//NOFORN", S),
    ("S.E.C.R.E.T//NOFORN", S),
    ("C - O - N - F - I - D - E - N - T - I - A - L//NOFORN", C),
    ("T  O  P    S  E  C  R  E  T//NOFORN", TS),
    ("Ｓ  Ｅ  Ｃ  Ｒ  Ｅ  Ｔ//NOFORN", S),
])
def test_banners_spelled_out_with_wide_gaps_or_dots_are_closed_up(ctx, banner, expected):
    assert level_of(ctx, us_memo(banner)) == expected


def test_a_partly_struck_banner_is_still_a_current_marking(ctx):
    assert level_of(ctx, us_memo("S\u0336ECRET//NOFORN")) == S


def test_russian_greek_and_spaced_words_that_are_no_marking_are_left_as_they_are():
    prose = ("Привет, коллеги. СССР и Греция: Καλημέρα ΤΟ ΠΡΟΓΡΑΜΜΑ.\nS E C T O R 7, U N D P, A.B.C.D. plan\n"
             "\u0421\u0415\u041a\u0420\u0415\u0422\u041d\u041e")  # СЕКРЕТНО: Russian, not a Latin word
    assert normalize_markings(prose) == prose
