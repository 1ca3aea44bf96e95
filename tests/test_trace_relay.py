"""Trace end to end: documents go out through the real relay, then `trace` finds them.

One gateway process (real SMTP over loopback, real worker pool, a recording next hop)
with a policy that watermarks PDFs for every recipient. Four messages go out:

- m1 alice → bob, carol: the cable as a PDF attachment (each recipient's copy marked);
- m2 dave → erin: the English memo pasted in the body;
- m3 frank → gina: two paragraphs of the cable pasted in the body;
- m4 henry → ivan: an unrelated note.

Then `dlp-gateway trace` is run on what a security officer might find.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import json
import time
from pathlib import Path

import docgen
import fingerprint_corpus as corpus
import pytest
from gatewayproc import Sink, send, start_gateway

from dlp_gateway.cli import main

pytestmark = pytest.mark.slow

POLICY = """\
mode: enforce
default:
  action: watermark
"""


def run_trace(data_dir: Path, path: Path) -> list[dict]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["trace", "--json", "--data-dir", str(data_dir), str(path)])
    (line,) = buffer.getvalue().splitlines()
    result = json.loads(line)
    assert result["file"] == str(path)
    return result["messages"]


def recorded(data_dir: Path) -> set[str]:
    """Message-IDs in the trace store so far."""
    import sqlite3

    path = Path(data_dir) / "store.sqlite"
    if not path.exists():
        return set()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        try:
            return {r[0] for r in conn.execute("SELECT message_id FROM trace_messages")}
        except sqlite3.OperationalError:  # the table is not there yet
            return set()


def pdf_of(data: bytes) -> bytes:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    (pdf,) = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    return pdf.get_payload(decode=True)


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    """Run the four messages through the relay; yield (data dir, sink messages, files)."""
    tmp = tmp_path_factory.mktemp("trace")
    policy_dir = tmp / "policies"
    policy_dir.mkdir()
    (policy_dir / "watermark.yaml").write_text(POLICY, encoding="utf-8")
    cable = tmp / "cable.pdf"
    cable.write_bytes(corpus.cable_pdf())
    paragraphs = corpus.paragraphs(corpus.CABLE)
    messages = [
        ("alice@mission.example", ["bob@mofa.example", "carol@mofa.example"],
         docgen.make_message("週報", "請參閱附件。", [("cable.pdf", cable.read_bytes(), "application/pdf")],
                             sender="alice@mission.example", to="bob@mofa.example, carol@mofa.example",
                             transfer_encoding="base64")),
        ("dave@mission.example", ["erin@mofa.example"],
         docgen.make_message("brief", corpus.MEMO, sender="dave@mission.example", to="erin@mofa.example",
                             transfer_encoding="base64")),
        ("frank@mission.example", ["gina@partner.example"],
         docgen.make_message("轉知", "供參：\n" + paragraphs[1] + "\n" + paragraphs[3] + "\n\n法蘭克",
                             sender="frank@mission.example", to="gina@partner.example",
                             transfer_encoding="base64")),
        ("henry@mission.example", ["ivan@mofa.example"],
         docgen.make_message("午餐", "明天中午一起吃飯嗎？會議改到下午三點，請帶上週的簽到表。",
                             sender="henry@mission.example", to="ivan@mofa.example",
                             transfer_encoding="base64")),
    ]
    with Sink() as sink, start_gateway(tmp, upstream=sink.address,
                                       config={"policy": {"dir": str(policy_dir), "watch": False}}) as gw:
        message_ids = []
        for sender, recipients, raw in messages:
            crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            code, text = send(gw.port, crlf, sender, recipients)
            assert code == 250, (code, text, sender)
            message_ids.append(email.message_from_bytes(raw)["Message-ID"])
        received = sink.wait_for(5, timeout=60)  # m1 goes out as two copies
        # The gateway records a delivery right after its reply: wait for all four.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and recorded(gw.data_dir) < set(message_ids):
            time.sleep(0.2)
        assert recorded(gw.data_dir) >= set(message_ids)
        yield gw.data_dir, received, message_ids, cable, tmp


def test_the_original_file_leads_to_the_message_that_carried_it(relay):
    data_dir, _, ids, cable, _ = relay
    found = run_trace(data_dir, cable)
    first = found[0]
    assert first["message_id"] == ids[0]
    assert first["sender"] == "alice@mission.example"
    assert sorted(first["recipients"]) == ["bob@mofa.example", "carol@mofa.example"]
    assert first["parts"][0] == {"location": "cable.pdf", "match": "file", "share_of_document": 1.0,
                                 "share_of_part": 1.0}
    assert first["time"].endswith("Z")
    # m3 carried two of its paragraphs: listed too, after m1; the others not at all.
    assert [m["message_id"] for m in found] == [ids[0], ids[2]]


def test_pasted_paragraphs_lead_to_the_message_that_carried_them(relay):
    data_dir, _, ids, _, tmp = relay
    paragraphs = corpus.paragraphs(corpus.CABLE)
    pasted = tmp / "pasted.txt"
    pasted.write_text(paragraphs[1] + "\n\n" + paragraphs[3], encoding="utf-8")
    found = run_trace(data_dir, pasted)
    # Both m3 (exactly these paragraphs in the body) and m1 (the whole cable) carried them.
    assert {m["message_id"] for m in found} == {ids[0], ids[2]}
    m3 = next(m for m in found if m["message_id"] == ids[2])
    assert m3["parts"][0]["location"].startswith("body")
    assert m3["parts"][0]["share_of_document"] > 0.7


def test_paragraphs_only_the_attachment_carried_lead_to_that_message_alone(relay):
    data_dir, _, ids, _, tmp = relay
    paragraphs = corpus.paragraphs(corpus.CABLE)
    pasted = tmp / "others.txt"
    pasted.write_text(paragraphs[0] + "\n" + paragraphs[4], encoding="utf-8")
    found = run_trace(data_dir, pasted)
    assert [m["message_id"] for m in found] == [ids[0]]
    assert found[0]["parts"][0]["location"] == "cable.pdf"


def test_a_rasterised_copy_leads_to_the_message_through_ocr(relay):
    data_dir, _, ids, _, tmp = relay
    scan = tmp / "found-on-forum.pdf"
    scan.write_bytes(corpus.cable_scanned_pdf())
    found = run_trace(data_dir, scan)
    assert found[0]["message_id"] == ids[0]
    assert found[0]["parts"][0]["match"] == "text"
    assert found[0]["leaked_by"] is None  # a raster keeps no watermark: the message, not the recipient


def test_an_unrelated_document_lists_nothing(relay):
    data_dir, _, _, _, tmp = relay
    other = tmp / "visa.docx"
    other.write_bytes(docgen.make_docx(corpus.paragraphs(corpus.SAME_SUBJECT)))
    assert run_trace(data_dir, other) == []
    code = main(["trace", "--data-dir", str(data_dir), str(other)])
    assert code == 1


def test_english_text_is_traced_by_word_k_grams(relay):
    data_dir, _, ids, _, tmp = relay
    excerpt = tmp / "memo-excerpt.txt"
    excerpt.write_text(corpus.paragraphs(corpus.MEMO)[1], encoding="utf-8")
    found = run_trace(data_dir, excerpt)
    assert [m["message_id"] for m in found] == [ids[1]]


def test_watermarks_tell_two_recipients_of_the_same_pdf_apart(relay):
    data_dir, received, ids, cable, tmp = relay
    copies = {m.rcpt_tos[0]: pdf_of(m.data) for m in received if len(m.rcpt_tos) == 1 and "週報" in
              email.message_from_bytes(m.data, policy=email.policy.default)["Subject"]}
    assert set(copies) == {"bob@mofa.example", "carol@mofa.example"}
    assert copies["bob@mofa.example"] != copies["carol@mofa.example"] != cable.read_bytes()
    for recipient, data in copies.items():
        leaked = tmp / f"leaked-{recipient}.pdf"
        leaked.write_bytes(data)
        found = run_trace(data_dir, leaked)
        assert found[0]["message_id"] == ids[0]
        assert found[0]["leaked_by"] == [recipient]
        assert found[0]["parts"][0]["match"] == "watermark"


def test_the_store_keeps_hashes_not_text(relay):
    data_dir, *_ = relay
    stored = b"".join(p.read_bytes() for p in Path(data_dir).glob("store.sqlite*"))
    for phrase in ("駐在國經濟部", "半導體供應鏈", "arbitration clause", "一起吃飯"):
        assert phrase.encode("utf-8") not in stored
        assert phrase.encode("utf-16-le") not in stored


def test_each_delivery_is_recorded_once(relay):
    import sqlite3

    time.sleep(0.5)  # a duplicate would have been written right after the first
    data_dir, _, ids, _, _ = relay
    with contextlib.closing(sqlite3.connect(Path(data_dir) / "store.sqlite")) as conn:
        rows = conn.execute("SELECT sender, recipients FROM trace_messages WHERE message_id = ?", (ids[1],)).fetchall()
    assert rows == [("dave@mission.example", '["erin@mofa.example"]')]
