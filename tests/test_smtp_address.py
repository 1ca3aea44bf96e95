"""The strict RFC 5321 path grammar of MAIL FROM / RCPT TO (dlp_gateway/smtp/address.py).

The real-server tests (test_relay_hostile.py) show control characters refused end to
end; these pin the grammar itself: what RFC 5321 4.1.2 allows passes as the client
wrote it, what it does not gets the reply code a client can act on.
"""

from __future__ import annotations

import pytest

from dlp_gateway.smtp.address import AddressError, parse_path


def mail(arg: str, utf8: bool = False) -> tuple[str, str]:
    return parse_path(arg, utf8=utf8, null_ok=True, postmaster_ok=False)


def rcpt(arg: str, utf8: bool = False) -> tuple[str, str]:
    return parse_path(arg, utf8=utf8, null_ok=False, postmaster_ok=True)


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("<a@b.example>", ("a@b.example", "")),
        ("<a@b.example> SIZE=100 BODY=8BITMIME", ("a@b.example", "SIZE=100 BODY=8BITMIME")),
        ('<"john q"@b.example>', ('"john q"@b.example', "")),
        ('<"a\\"b"@b.example>', ('"a\\"b"@b.example', "")),
        ("<a@[192.0.2.1]>", ("a@[192.0.2.1]", "")),
        ("<a@[IPv6:2001:db8::1]>", ("a@[IPv6:2001:db8::1]", "")),
        ("<@relay.example,@r2.example:a@b.example>", ("a@b.example", "")),  # source route dropped
        ("a@b.example", ("a@b.example", "")),  # no brackets, as Postfix takes it
        ("<>", ("<>", "")),
    ],
)
def test_valid_paths_are_taken_as_written(arg: str, expected: tuple[str, str]) -> None:
    assert mail(arg) == expected


@pytest.mark.parametrize(
    "arg",
    ["<a@b.example", "<a b@b.example>", "<a..b@b.example>", "<a@>", "<@b.example>", "<a(comment)@b.example>",
     "< a@b.example >", "<a@b.example>SIZE=1", "<a@[300.1.1.1]>", "<a@-b.example>"],
)
def test_malformed_paths_are_refused(arg: str) -> None:
    with pytest.raises(AddressError) as refused:
        mail(arg)
    assert refused.value.reply[:3] in ("501", "553")


def test_utf8_addresses_need_smtputf8() -> None:
    assert mail("<用户@例子.广告>", utf8=True) == ("用户@例子.广告", "")
    with pytest.raises(AddressError, match="^553 5.6.7"):
        mail("<用户@例子.广告>")


def test_bytes_that_were_not_utf8_are_refused() -> None:
    with pytest.raises(AddressError, match="^553 5.6.7"):
        mail("<a\udce9@b.example>", utf8=True)  # aiosmtpd's surrogateescape of a lone 0xE9


def test_the_null_path_is_a_sender_only_and_postmaster_a_recipient_only() -> None:
    with pytest.raises(AddressError, match="^501"):
        rcpt("<>")
    assert rcpt("<Postmaster>") == ("Postmaster", "")
    with pytest.raises(AddressError):
        mail("<Postmaster>")
