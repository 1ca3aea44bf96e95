"""Benchmark: marking grammar + YARA rules on extracted text, milliseconds per 100 KB.

Target (issue 4): at most 5 ms per 100 KB of text on one core. The text is built like
real mission mail: ministry letters (a heading with the empty 密等 field, then
paragraphs with ordinary words containing 密 that the grammar has to look at and
reject), English memo paragraphs, and a banner, so the measurement includes the lines
the trigger hits, not only the fast path. `--dense` is the worst case.

    python bench/detect_bench.py [--kb 100] [--rounds 30] [--dense]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from dlp_gateway.config import SHIPPED_YARA_RULES
from dlp_gateway.detect.markings import MarkingDetector
from dlp_gateway.detect.yara_rules import YaraDetector, YaraRules
from dlp_gateway.model import Inspection, Part, Segment

PARAGRAPHS = [
    "據駐在國外交部官員透露，該國政府近期將調整對亞太地區之政策方向，並擬於下月召開跨部會會議，"
    "討論區域安全、供應鏈合作及雙邊經貿議題；本處已洽請對方於會後提供相關資料，俾利研析。",
    "經洽相關智庫學者，渠等研判短期內情勢將維持穩定，然不排除出現突發變化，建請持續關注；"
    "另對方表示雙方關係密切，願在現有基礎上深化合作，惟細節仍待協商，本處將密切注意後續發展。",
    "本案涉及多個部會權責，建請鈞部協調經濟部、國防部等相關機關研提具體因應方案，"
    "並請同仁依國家機密保護法及相關規定妥善保管資料，定期更新系統密碼，以維資安。",
    "The delegation met with the Deputy Assistant Secretary to review the agenda for the next round of "
    "talks; host government officials indicated that the framework remains under interagency review.",
    "Our contacts noted that the minister's schedule is still confidential and asked that the list of "
    "participants not be shared before the official announcement at the end of the month.",
]
HEADING = [
    "外交部　函", "受文者：駐美國台北經濟文化代表處", "發文日期：中華民國115年3月2日",
    "發文字號：外政字第1150012345號", "速別：普通件", "密等及解密條件或保密期限：", "附件：無",
    "主旨：有關雙邊經貿諮商會議籌備事宜，請查照。", "說明：",
]


def make_text(kb: int, seed: int = 1, *, dense: bool = False) -> str:
    """Letters as extraction yields them: a heading of short lines, then paragraphs.

    `dense` packs an empty 密等 field and a 密-word into every few lines instead: the
    worst case for the grammar (every line is a candidate that must be rejected).
    """
    rng = random.Random(seed)
    out: list[str] = ["機密"]
    size = 0
    while size < kb * 1024:
        if dense:
            block = [rng.choice(HEADING), "密等及解密條件或保密期限：", rng.choice(PARAGRAPHS)[:60]]
        else:
            block = HEADING + [rng.choice(PARAGRAPHS) for _ in range(rng.randint(4, 10))]
        out.extend(block)
        size += sum(len(line.encode("utf-8")) + 1 for line in block)
    out.append("機密")
    return "\n".join(out)


def inspection_for(text: str, pages: int = 10) -> Inspection:
    """The text split into PDF-like page segments, with a header band per page."""
    lines = text.split("\n")
    step = max(1, len(lines) // pages)
    segments: list[Segment] = []
    for n, start in enumerate(range(0, len(lines), step), 1):
        segments.append(Segment("外交部", f"a.pdf › page {n} › header", "a.pdf", "header_band"))
        segments.append(Segment("\n".join(lines[start:start + step]), f"a.pdf › page {n}", "a.pdf", "page"))
    data = text.encode("utf-8")
    part = Part("a.pdf", "a.pdf", "application/pdf", "application/pdf", len(data), "0" * 64, 1, data=data)
    return Inspection(segments=segments, parts=[part], subject="報告")


def measure(fn, rounds: int) -> float:
    """Median CPU time of one call in ms: CPU time, not wall time, so other processes on a
    shared machine do not count against the figure (it is "one core's" time)."""
    fn()  # warm up
    times = []
    for _ in range(rounds):
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=100, help="text size in KB (default 100)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--rules", default=str(SHIPPED_YARA_RULES), help="YARA rule directory")
    parser.add_argument("--dense", action="store_true", help="worst case: a 密等 field every few lines")
    args = parser.parse_args()
    text = make_text(args.kb, dense=args.dense)
    inspection = inspection_for(text)
    markings = MarkingDetector()
    yara_detector = YaraDetector(YaraRules.load(Path(args.rules)))
    found = markings.detect(inspection)
    m = measure(lambda: markings.detect(inspection), args.rounds)
    y = measure(lambda: yara_detector.detect(inspection), args.rounds)
    kb = len(text.encode("utf-8")) / 1024
    scale = 100 / kb
    print(f"text: {kb:.0f} KB UTF-8 ({len(text)} characters), {len(inspection.segments)} segments; "
          f"markings found: {len(found)}")
    print(f"markings: {m:.2f} ms  ({m * scale:.2f} ms per 100 KB)")
    print(f"yara (bytes + text): {y:.2f} ms  ({y * scale:.2f} ms per 100 KB)")
    print(f"total: {(m + y) * scale:.2f} ms CPU per 100 KB  (target <= 5 ms)")


if __name__ == "__main__":
    main()
