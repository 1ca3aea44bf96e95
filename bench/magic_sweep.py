"""Sweep: filetype's libmagic shortcuts against the full libmagic call.

    python3 bench/magic_sweep.py            # every string of magic.mgc, about 7 minutes
    python3 bench/magic_sweep.py --quick    # only the values of libmagic's text tests, 1 minute

`filetype.true_type` skips libmagic's text tests for prose (`_is_plain_prose`) and for
markup (`_markup_type`), having checked that none of those tests can match. This plants
every value libmagic's text tests look for (decoded from the compiled magic.mgc) and
every string of magic.mgc, in several cases, in prose and in markup (HTML documents and
fragments, at a line start, mid-line, in a comment, right after "<", after a blank, in
Big5 text, after a BOM), and
wherever a shortcut answers, compares its answer with libmagic's own. Prints the number
of samples, how many took a shortcut, and every disagreement; exit status 1 if any.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

MAGIC_MGC = "/usr/lib/file/magic.mgc"
ENTRY = 376  # sizeof(struct magic), file 5.x
PROSE = (b"The delegation met with the deputy director to review the agenda for the next round.\n"
         b"Please find attached the draft programme for the week.\n")
OUTLOOK = (b'<html xmlns:o="urn:schemas-microsoft-com:office:office">\n<head>\n'
           b'<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n<style><!--\n')
PROSE_TEMPLATES = (b"%s is here.\n" + PROSE, b"%s\n" + PROSE, PROSE + b"%s is here.\n" + PROSE,
                   PROSE + b"and %s here\n" + PROSE, b"%s")
MARKUP_TEMPLATES = (
    b'<div dir="ltr">' + PROSE + b"<br>\n%s is here.<br>\n</div>\n",
    b"<div>\n%s\n" + PROSE + b"</div>\n",
    b"<div>\n  %s and more\n</div>\n",
    OUTLOOK + b"%s\n--></style>\n</head>\n<body>" + PROSE + b"</body>\n</html>\n",
    b"<html>\n<body>%s " + PROSE + b"</body></html>\n",
    b"<%s>\n" + PROSE,
    b"<!-- %s -->\n<p>" + PROSE + b"</p>\n",
    b"<!DOCTYPE html>\n<p>%s</p>\n",
    b"\n<%s>\n" + PROSE,
    b" <p>%s</p>\n<table>\n",
)
# 8-bit text (libmagic reads it as ISO-8859-1) and UTF-8 with a BOM
PROSE_BIG5 = "本處已洽請對方於會後提供相關資料，俾利研析。許功蓋\n".encode("big5")
MARKUP_TEMPLATES += (
    b"<div>" + PROSE_BIG5 * 20 + b"\n%s\n<table>\n",
    b"<div>" + PROSE_BIG5 + b"%s<br>\n" + PROSE_BIG5 + b"</div>\n",
    b"\xef\xbb\xbf<div>\n%s\n</div>\n",
)


def text_test_values() -> set[bytes]:
    """The string, search and regex values of magic.mgc (what text tests look for)."""
    data = Path(MAGIC_MGC).read_bytes()
    values = set()
    for offset in range(ENTRY, len(data) - ENTRY + 1, ENTRY):
        vallen, kind = data[offset + 5], data[offset + 6]
        if kind in (5, 17, 20) and vallen:  # FILE_STRING, FILE_REGEX, FILE_SEARCH
            values.add(data[offset + 32: offset + 32 + vallen])
    return values


def all_strings() -> set[bytes]:
    out = subprocess.run(["strings", "-n", "2", MAGIC_MGC], capture_output=True, check=True).stdout
    return {w.strip() for w in out.split(b"\n") if w.strip()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the values of text tests")
    args = parser.parse_args(argv)

    import magic

    from dlp_gateway.content import filetype

    full = magic.Magic(mime=True)
    words = text_test_values()
    if not args.quick:
        words |= all_strings()
    variants = sorted({v for w in words for v in (w, w.lower(), w.upper(), w.capitalize())})
    samples = fast = 0
    bad: list[tuple[str, str, bytes]] = []
    for word in variants:
        for templates, shortcut in ((PROSE_TEMPLATES, filetype._is_plain_prose),
                                    (MARKUP_TEMPLATES, filetype._markup_type)):
            for template in templates:
                sample = template % word
                samples += 1
                answer = shortcut(sample)
                if answer is None or answer is False:
                    continue
                fast += 1
                expected = full.from_buffer(sample)
                if (answer if isinstance(answer, str) else "text/plain") != expected:
                    bad.append((str(answer), expected, sample[:160]))
    print(f"{len(variants)} strings, {samples} samples, {fast} answered by a shortcut, {len(bad)} disagree")
    for answer, expected, sample in bad:
        print(f"shortcut {answer}, libmagic {expected}: {sample!r}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
