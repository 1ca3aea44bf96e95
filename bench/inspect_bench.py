"""Benchmark: CPU time of inspecting one message in a worker (pipeline.inspect_message).

    python3 bench/inspect_bench.py                      # 600 messages of the common mix
    python3 bench/inspect_bench.py --count 1200 --repeat 5
    python3 bench/inspect_bench.py --profile --top 40   # and a cProfile of one pass

The messages are relay_bench's "common mix" (70% plain text, 20% with a 2-page PDF, 10%
with a DOCX, issue 6), and apart from it, as most real mail is, "html" messages:
multipart/alternative, the same ~3 KB body as text/plain and as text/html, half written
as Outlook does (`<html xmlns:o=...>`, a style sheet), half as Gmail does
(`<div dir="ltr">`). Reported: CPU milliseconds per message by kind and on average over
the common mix, best of `--repeat` passes (process time, so other load on the machine
matters little). The report is pickled as a worker does to send it back.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import pickle
import pstats
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]


def html_messages(count: int, seed: int = 3) -> list[bytes]:
    """multipart/alternative: a ~3 KB body as text/plain and as Outlook or Gmail HTML."""
    import docgen
    import relay_bench

    rng = random.Random(seed)
    out = []
    for i in range(count):
        paragraphs = relay_bench._paragraphs(rng, 8)
        escaped = [html.escape(p) for p in paragraphs]
        markup = docgen.outlook_html(escaped) if i % 2 else docgen.gmail_html(escaped, blank_lines=True)
        message = docgen.make_message(f"Weekly report {i}", "\n\n".join(paragraphs), html=markup)
        out.append(relay_bench._crlf(message))
    return out


def kind_of(message: bytes) -> str:
    if b"application/pdf" in message:
        return "pdf"
    if b"wordprocessingml" in message:
        return "docx"
    if b"text/html" in message:
        return "html"
    return "text"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600, help="messages in the mix (default 600)")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best is reported (default 3)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one pass")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (default tottime)")
    parser.add_argument("--top", type=int, default=30, help="functions to print with --profile")
    args = parser.parse_args(argv)

    import relay_bench

    from dlp_gateway.config import Settings
    from dlp_gateway.pipeline import WorkerContext, inspect_message

    messages = relay_bench.common_mix(args.count)
    html_group = html_messages(max(args.count // 6, 2))
    ctx = WorkerContext.from_settings(Settings())
    for message in messages[:50] + html_group[:4]:  # warm up: imports, libmagic, caches
        inspect_message(message, ctx)
    kinds: dict[str, list[bytes]] = {"text": [], "pdf": [], "docx": [], "html": html_group}
    for message in messages:
        kinds[kind_of(message)].append(message)

    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for kind, group in kinds.items():
            started = time.process_time()
            for message in group:
                pickle.dumps(inspect_message(message, ctx))
            per_message = (time.process_time() - started) / max(len(group), 1) * 1000
            best[kind] = min(best.get(kind, per_message), per_message)

    print(f"{'kind':<8}{'messages':>10}{'avg bytes':>11}{'CPU ms/msg':>12}")
    for kind, group in kinds.items():
        size = sum(map(len, group)) / max(len(group), 1)
        print(f"{kind:<8}{len(group):>10}{size:>11.0f}{best[kind]:>12.2f}")
    average = sum(best[k] * len(g) for k, g in kinds.items() if k != "html") / len(messages)
    print(f"{'mix':<8}{len(messages):>10}{'':>11}{average:>12.2f}   (common mix: text, pdf, docx)")

    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for message in messages:
            inspect_message(message, ctx)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
