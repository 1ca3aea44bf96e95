"""Time HTML-to-text on poison inputs and on ordinary mail bodies (issue #13).

Compares the stdlib `html.parser` (what the gateway used), selectolax/lexbor (if
installed) and the gateway's reader (`dlp_gateway.content.html`, lxml/libxml2). Each run
is in a child process with a time limit, so a quadratic case is reported as "> N s"
instead of stalling the bench.

    PYTHONPATH=. python bench/html_parser_bench.py [--limit 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def inputs() -> dict[str, str]:
    import docgen

    prose = "外交部 機密 本件為密件，請勿外流。The meeting is confirmed for Tuesday. " * 4
    return {
        "<a  × 10,000 (30 KB)": "<a " * 10_000,
        "<!-- unclosed (1 MB)": "<p>x</p><!--" + "y" * 1_000_000,
        "<![CDATA[ × 100,000": "<![CDATA[" * 100_000 + "SECRET",
        "<div> × 100,000": "<div>" * 100_000 + "SECRET",
        "50,000 attributes": "<p " + " ".join(f"a{i}=x" for i in range(50_000)) + ">SECRET",
        "</ × 100,000": "</" * 100_000,
        "Outlook body (200 paragraphs)": docgen.outlook_html([prose] * 200),
        "Gmail body (200 lines)": docgen.gmail_html([prose] * 200),
    }


def run_stdlib(html: str) -> int:
    from html.parser import HTMLParser

    parser = HTMLParser(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return 0


def run_selectolax(html: str) -> int:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    return len(tree.root.text(deep=True)) if tree.root else 0


def run_gateway(html: str) -> int:
    from dlp_gateway.content.html import html_to_text

    return len(html_to_text(html))


def _child(name: str, html: str, queue: multiprocessing.Queue) -> None:
    runner = {"stdlib html.parser": run_stdlib, "selectolax": run_selectolax, "gateway (lxml)": run_gateway}[name]
    runner("<p>warm-up</p>")  # imports are not the parser's time
    started = time.perf_counter()
    runner(html)
    queue.put(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=20.0, help="seconds before a run is given up")
    args = parser.parse_args()
    runners = ["stdlib html.parser", "gateway (lxml)"]
    try:
        import selectolax  # noqa: F401

        runners.insert(1, "selectolax")
    except ImportError:
        pass
    print("| input | " + " | ".join(runners) + " |")
    print("|---" * (len(runners) + 1) + "|")
    for label, html in inputs().items():
        cells = []
        for name in runners:
            queue: multiprocessing.Queue = multiprocessing.Queue()
            child = multiprocessing.Process(target=_child, args=(name, html, queue))
            child.start()
            child.join(args.limit)
            if child.is_alive():
                child.kill()
                child.join()
                cells.append(f"> {args.limit:g} s")
            else:
                cells.append(f"{queue.get() * 1000:.1f} ms" if not queue.empty() else "failed")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
