"""Strict RFC 5321 parsing of the MAIL FROM / RCPT TO argument.

aiosmtpd parses envelope addresses with the email package's RFC 5322 header parser,
which is lenient by design: it accepts control characters, comments, an unterminated
`<a` (a `MAIL FROM:<a` cut short by a bare LF became the sender `a`) and returns
whatever it made of it. An envelope address goes on to the next hop's command line,
the decision log, notices and the store, so here only what RFC 5321 4.1.2 allows
passes (with RFC 6531's UTF-8 when the client asked for SMTPUTF8):

    Path          = "<" [ A-d-l ":" ] Mailbox ">"
    Mailbox       = Local-part "@" ( Domain / address-literal )
    Local-part    = Dot-string / Quoted-string
    Domain        = sub-domain *("." sub-domain)

A bare Mailbox without angle brackets is read as Postfix does by default
(`strict_rfc821_envelopes = no`), with the same strict grammar inside. A source route
(A-d-l) is accepted and dropped (RFC 5321 4.1.1.3 says to ignore it). The result is
the address as the client wrote it, so the bytes passed on are the client's own.
"""

from __future__ import annotations

import ipaddress
import re

# Any C0 control, DEL and the C1 controls: never valid anywhere in an envelope.
CONTROL = re.compile(r"[\x00-\x1f\x7f\x80-\x9f]")

# aiosmtpd decodes arguments with surrogateescape: a lone surrogate is a byte that was not UTF-8.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ATEXT_UTF8 = r"(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[^\x00-\x7f])"
_QCONTENT = r'(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])'
_QCONTENT_UTF8 = r'(?:[\x20\x21\x23-\x5b\x5d-\x7e]|[^\x00-\x7f]|\\[\x20-\x7e])'
_LDH = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_LDH_UTF8 = r"(?:[A-Za-z0-9]|[^\x00-\x7f])(?:(?:[A-Za-z0-9-]|[^\x00-\x7f])*(?:[A-Za-z0-9]|[^\x00-\x7f]))?"


def _mailbox_pattern(atext: str, qcontent: str, ldh: str) -> re.Pattern[str]:
    dot_string = f"{atext}+(?:\\.{atext}+)*"
    quoted = f'"{qcontent}*"'
    domain = f"{ldh}(?:\\.{ldh})*"
    literal = r"\[[^\[\]\\\x00-\x20\x7f]+\]"
    return re.compile(f"(?:{dot_string}|{quoted})@(?:{domain}|{literal})")


_MAILBOX = _mailbox_pattern(_ATEXT, _QCONTENT, _LDH)
_MAILBOX_UTF8 = _mailbox_pattern(_ATEXT_UTF8, _QCONTENT_UTF8, _LDH_UTF8)
_ADL = re.compile(f"@{_LDH}(?:\\.{_LDH})*(?:,@{_LDH}(?:\\.{_LDH})*)*:")


class AddressError(ValueError):
    """The argument is not a valid RFC 5321 path; `reply` is the SMTP answer."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


def _literal_ok(literal: str) -> bool:
    """An address literal: IPv4 dotted quad, `IPv6:` address, or a general literal."""
    inner = literal[1:-1]
    if inner[:5].upper() == "IPV6:":
        try:
            ipaddress.IPv6Address(inner[5:])
        except ValueError:
            return False
        return True
    if re.fullmatch(r"[0-9.]+", inner):
        try:
            ipaddress.IPv4Address(inner)
        except ValueError:
            return False
        return True
    # General-address-literal = Standardized-tag ":" 1*dcontent
    return re.fullmatch(r"[A-Za-z0-9-]*[A-Za-z0-9]:[\x21-\x5a\x5e-\x7e]+", inner) is not None


def parse_path(arg: str, *, utf8: bool, null_ok: bool, postmaster_ok: bool) -> tuple[str, str]:
    """Split `<mailbox> params` into (mailbox, params); raises AddressError.

    `null_ok`: `<>` is allowed (MAIL FROM, returned as "<>", aiosmtpd's convention);
    `postmaster_ok`: `<Postmaster>` without a domain is allowed (RCPT TO).
    """
    if CONTROL.search(arg):
        raise AddressError("501 5.5.2 control characters are not allowed in an SMTP command")
    if not utf8 and not arg.isascii():
        raise AddressError("553 5.6.7 non-ASCII address without SMTPUTF8 (RFC 6531): add SMTPUTF8 to MAIL FROM")
    if _SURROGATE.search(arg):
        raise AddressError("553 5.6.7 the address is not valid UTF-8")
    text = arg.lstrip(" ")
    if text.startswith("<"):
        close = _closing_bracket(text)
        if close < 0:
            raise AddressError("501 5.1.7 bad address syntax: no closing '>'")
        inner, rest = text[1:close], text[close + 1 :]
        if rest and not rest.startswith(" "):
            raise AddressError("501 5.5.4 bad address syntax: text after '>' must be parameters after a space")
        if inner == "":
            if null_ok:
                return "<>", rest.lstrip(" ")
            raise AddressError("501 5.1.3 the null address <> is not a recipient")
        adl = _ADL.match(inner)
        if adl:
            inner = inner[adl.end() :]
    else:
        inner, _, rest = text.partition(" ")
        rest = " " + rest if rest else ""
    if postmaster_ok and inner.lower() == "postmaster":
        return inner, rest.lstrip(" ")
    pattern = _MAILBOX_UTF8 if utf8 else _MAILBOX
    if not pattern.fullmatch(inner):
        raise AddressError("553 5.1.3 bad address syntax (RFC 5321 4.1.2): use <local-part@domain>")
    if inner.endswith("]") and not _literal_ok(inner[inner.rindex("@") + 1 :]):
        raise AddressError("553 5.1.3 bad address literal (RFC 5321 4.1.3)")
    return inner, rest.lstrip(" ")


def _closing_bracket(text: str) -> int:
    """Index of the '>' that ends a path, skipping quoted strings; -1 if none."""
    quoted = False
    index = 1
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\":
                index += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == ">":
            return index
        index += 1
    return -1
