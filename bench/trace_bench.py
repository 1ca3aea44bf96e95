"""Trace at scale: answer time over one million recorded messages, and bytes per message.

Generates a store (in a temporary data dir unless --data-dir) holding --messages
recorded messages spread over the last 12 months: most are a mail body alone (a few
dozen fingerprints, like a short mail), --attachment-share of them also carry an
attachment (a few hundred fingerprints, like a 10-page document), and every body carries
the same signature/disclaimer fingerprints (boilerplate). The fingerprints are random
64-bit values, sampled as the trace store samples real ones. Bulk-loaded with
executemany in one transaction, postings pre-sorted per month table.

A handful of real messages (recorded through TraceStore.record from real text) are
mixed in; the benchmark then traces the full document, a few pasted paragraphs of it and
an unrelated document, and prints the answer times and the store size per message.

    python3 bench/trace_bench.py [--messages 1000000] [--data-dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dlp_gateway.detect import textnorm  # noqa: E402
from dlp_gateway.model import PartDigest  # noqa: E402
from dlp_gateway.store import trace as trace_store  # noqa: E402
from dlp_gateway.store.db import db_path, ensure_schema, open_db  # noqa: E402
from dlp_gateway.trace import FoundDocument, trace_document  # noqa: E402

DOCUMENT = """外交部駐外館處應於每月五日前，將上月與駐在國政府官員會談之紀錄彙整後，以密件電報方式陳報本部。會談紀錄應載明時間、地點、參與人員及討論議題，並就駐在國對我國參與國際組織之立場提出具體分析。
關於本年度雙邊經貿諮商會議之籌備事宜，請貴處先與駐在國經濟部主管司處聯繫，確認會議日期及議程草案，並於十日內回報。議程草案應包括農產品市場開放、投資保障協定之修正，以及半導體供應鏈合作等三項議題。
駐在國國會外交委員會近期就區域安全情勢舉行聽證會，多位委員關切臺海和平穩定。請貴處持續蒐集相關發言內容，並評估其對駐在國行政部門政策之可能影響，於下週三前以專報方式陳核。
另據悉駐在國總理預定於下月出訪東南亞三國，行程可能涉及南海議題之協商。請貴處透過適當管道瞭解其訪問重點，並注意是否涉及我國利益，如有重要發展應即時電告。
本案各項資料均屬機敏性質，處理人員應確實遵守保密規定，不得以一般電子郵件傳送，亦不得於公務以外場合討論。相關文件閱畢後應依規定銷毀或歸檔，並填具處理紀錄備查。"""

UNRELATED = """外交部請各駐外館處注意，駐在國政府近期將調整簽證政策，可能影響我國國民入境之便利。請貴處與駐在國外交部領事司聯繫，瞭解新制實施日期及適用範圍，並於本月底前以電報陳報本部。
有關雙邊經貿合作，駐在國經濟部表示願於明年上半年舉行部長級會議，討論數位經濟及綠色能源等議題。請貴處評估會議可行性，並就我方可提出之合作方案提供建議。"""


def random_sampled(rng: np.random.Generator, n: int) -> np.ndarray:
    values = rng.integers(0, np.iinfo(np.int64).max, size=n, dtype=np.int64, endpoint=True)
    return (values & ~np.int64(trace_store.SAMPLE_MASK)).astype(np.int64)


def generate(data_dir: Path, messages: int, attachment_share: float, seed: int = 7) -> float:
    rng = np.random.default_rng(seed)
    conn = open_db(data_dir)
    conn.execute("PRAGMA synchronous=OFF")
    ensure_schema(conn, trace_store.SCHEMA)
    now = time.time()
    started = time.perf_counter()
    at = np.sort(now - rng.random(messages) * 365 * 86400)
    body_kept = rng.integers(5, 40, size=messages)
    has_attachment = rng.random(messages) < attachment_share
    attach_kept = np.where(has_attachment, rng.integers(50, 400, size=messages), 0)
    boilerplate = random_sampled(rng, 3)

    ids = np.arange(1, messages + 1)
    # Parts: every message a body, some an attachment too; part ids grow with time.
    part_message = np.concatenate((ids, ids[has_attachment]))
    part_kept = np.concatenate((body_kept, attach_kept[has_attachment]))
    part_location = np.array(["body[0]"] * messages + ["attachment.pdf"] * int(has_attachment.sum()))
    order = np.argsort(part_message, kind="stable")
    part_message, part_kept, part_location = part_message[order], part_kept[order], part_location[order]
    part_ids = np.arange(1, len(part_message) + 1)
    month_names, month_of_message = np.unique(
        np.array([trace_store.postings_table(float(t)) for t in at]), return_inverse=True)
    part_month = month_of_message[part_message - 1].astype(np.int16)
    is_body = part_location == "body[0]"
    # Postings: each part's random fingerprints, plus the shared boilerplate in bodies.
    per_part = part_kept + np.where(is_body, len(boilerplate), 0)
    owner = np.repeat(part_ids, per_part)
    hashes = random_sampled(rng, int(per_part.sum()))
    offsets = np.concatenate(([0], np.cumsum(per_part)[:-1]))
    body_offsets = offsets[is_body] + part_kept[is_body]
    for j in range(len(boilerplate)):
        hashes[body_offsets + j] = boilerplate[j]
    owner_month = np.repeat(part_month, per_part)
    with conn:
        conn.executemany(
            "INSERT INTO trace_messages (id, at, gateway_id, message_id, sender, recipients, via) "
            "VALUES (?,?,?,?,?,?,?)",
            ((int(i), float(at[i - 1]), f"bench-{i}", f"<{i}@bench.example>", "attache@mission.example",
              json.dumps([f"desk{i % 97}@mofa.example"]), "deliver") for i in ids.tolist()))
        conn.executemany(
            "INSERT INTO trace_parts (id, message, location, sha256, kept, cut) VALUES (?,?,?,?,?,?)",
            ((pid, mid, loc, rng.bytes(32), kept, None) for pid, mid, loc, kept in
             zip(part_ids.tolist(), part_message.tolist(), part_location.tolist(), part_kept.tolist(), strict=True)))
        total = 0
        for month, table in enumerate(month_names.tolist()):
            trace_store._create_postings(conn, table)
            mask = owner_month == month
            rows = np.stack((hashes[mask], owner[mask]), axis=1)
            rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
            total += len(rows)
            for chunk in range(0, len(rows), 1_000_000):
                conn.executemany(f"INSERT OR IGNORE INTO {table} (h, part) VALUES (?, ?)",
                                 rows[chunk : chunk + 1_000_000].tolist())
            del rows
    part_id = len(part_ids)
    conn.execute("PRAGMA synchronous=FULL")
    conn.close()
    print(f"generated {messages} messages, {part_id} parts, {total} postings "
          f"in {time.perf_counter() - started:.1f} s")
    return now


def record_real(data_dir: Path) -> None:
    """A few real messages among the generated ones: the document, pasted parts, others."""
    store = trace_store.TraceStore(data_dir)
    paragraphs = DOCUMENT.split("\n")
    bodies = {
        "<real-full@mission.example>": DOCUMENT,
        "<real-pasted@mission.example>": "請參考：\n" + paragraphs[1] + "\n" + paragraphs[3] + "\n謝謝",
        "<real-other@mission.example>": "明天中午一起吃飯嗎？會議改到下午三點。",
    }
    for message_id, body in bodies.items():
        kept, cut = trace_store.sample(textnorm.winnow(body))
        digest = PartDigest("body[0]", "", tuple(kept.view(np.int64).tolist()), trace_store.sample_cut_signed(cut))
        store.record(at=time.time() - 3600, gateway_id=message_id.strip("<>"), message_id=message_id,
                     sender="attache@mission.example", recipients=["desk@mofa.example"], digests=[digest])
    store.close()


def timed_trace(data_dir: Path, text: str) -> tuple[float, list[str]]:
    store = trace_store.TraceStore.open_for_reading(data_dir)
    assert store is not None
    started = time.perf_counter()
    found = FoundDocument(sha256s=(), fingerprints=textnorm.winnow(text), marks=[])
    results = trace_document(found, store)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed, [r.message.message_id for r in results]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--attachment-share", type=float, default=0.3)
    parser.add_argument("--data-dir", help="where to build the store (default: a temporary dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated store")
    args = parser.parse_args()
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="trace-bench-"))
    try:
        generate(data_dir, args.messages, args.attachment_share)
        record_real(data_dir)
        conn = open_db(data_dir)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        size = os.path.getsize(db_path(data_dir))
        print(f"store: {size / 1e6:.0f} MB, {size / args.messages:.0f} bytes per message")
        paragraphs = DOCUMENT.split("\n")
        rng = np.random.default_rng(99)
        long_document = "".join(chr(c) for c in rng.integers(0x4E00, 0x4E00 + 3000, size=20_000).tolist())
        for name, text in (("whole document", DOCUMENT),
                           ("two pasted paragraphs", paragraphs[1] + paragraphs[3]),
                           ("unrelated document", UNRELATED),
                           ("unrelated 20-page document (20,000 characters)", long_document)):
            for attempt in ("cold", "warm"):
                elapsed, found = timed_trace(data_dir, text)
                print(f"trace {name} ({attempt}): {elapsed * 1000:.0f} ms -> {found}")
    finally:
        if not args.keep and not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
