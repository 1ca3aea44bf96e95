"""Header values read without the policy's parse are the values the parse gives.

mime._unparsed_value skips email.policy.default's header parse where the parse returns
the value unchanged; these tests hold it to that on generated values of every shape.
"""

from __future__ import annotations

import email.policy
import random

import pytest

from dlp_gateway.content import mime

UNSTRUCTURED = ["subject", "received", "x-classification", "thread-topic", "keywords", "x-mailer"]
STRUCTURED = ["from", "to", "date", "content-type", "content-disposition", "mime-version"]


def _random_values(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = [chr(c) for c in range(32, 127)] + ["\t", "\r\n ", "\r\n\t", "\n ", "=?", "?=", "é", "機"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50))) for _ in range(count)]


def _parsed(name: str, value: str) -> str:
    return str(email.policy.default.header_fetch_parse(name, value))


@pytest.mark.parametrize("name", UNSTRUCTURED)
def test_unstructured_values_match_the_policys_parse(name: str):
    for value in _random_values(UNSTRUCTURED.index(name), 3000):
        plain = mime._unparsed_value(name, value)
        assert plain is None or plain == _parsed(name, value), value


def test_encoded_words_are_left_to_the_policy():
    assert mime._unparsed_value("Subject", "=?utf-8?b?5qmf5a+G?=") is None


def test_non_ascii_values_are_left_to_the_policy():
    assert mime._unparsed_value("Subject", "機密 report") is None


def test_plain_message_ids_match_the_policys_parse():
    rng = random.Random(7)
    chars = "abcXYZ019.!#$%&'*+/=?^_`{|}~-"
    for _ in range(3000):
        value = ("<" + "".join(rng.choice(chars) for _ in range(rng.randint(1, 20))) + "@"
                 + "".join(rng.choice("abc.-09") for _ in range(rng.randint(1, 12))) + ">")
        plain = mime._unparsed_value("Message-ID", value)
        assert plain is None or plain == _parsed("message-id", value), value


@pytest.mark.parametrize("name", STRUCTURED)
def test_other_structured_headers_are_left_to_the_policy(name: str):
    assert mime._unparsed_value(name, "text/plain") is None


def test_a_folded_subject_is_unfolded_as_the_policy_does():
    value = "Weekly\r\n report"
    assert mime._unparsed_value("Subject", value) == _parsed("subject", value) == "Weekly report"
