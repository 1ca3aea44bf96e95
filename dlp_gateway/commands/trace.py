"""`dlp-gateway trace [--json] FILE...`: which delivered messages carried this document?

FILE is what was found: the PDF itself, a scan or photo of it, a DOCX holding parts of
it, or pasted text. It is read like an attachment (OCR included) and matched against
the trace records (see dlp_gateway/trace.py). Exit status: 0 when a message was found
for every file, 1 when some file matched nothing, 2 bad usage.
"""

from __future__ import annotations

import argparse
import builtins
import sys
from pathlib import Path

from dlp_gateway.cli import EXIT_FOUND, EXIT_OK, EXIT_USAGE, settings_from_args
from dlp_gateway.store.trace import TraceStore
from dlp_gateway.termsafe import json_text, printable
from dlp_gateway.trace import TraceResult, read_found_document, trace_document


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "trace", parents=[common],
        help="list the delivered messages that carried a found document or parts of it")
    parser.add_argument("--json", action="store_true", help="one JSON object per file per line")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.set_defaults(func=cmd_trace)


def _print_text(name: str, results: list[TraceResult]) -> None:
    def print(line: str) -> None:  # senders, recipients and locations come from mail
        builtins.print(printable(line))

    if not results:
        print(f"{name}: no delivered message carried this document")
        return
    print(f"{name}: {len(results)} message(s), best first")
    for result in results:
        s = result.summary()
        print(f"  {s['time']}  from {s['sender']}  to {', '.join(s['recipients'])}")
        print(f"    Message-ID {s['message_id'] or '-'}  gateway id {s['gateway_id']}  ({s['via']})")
        if s["leaked_by"]:
            print(f"    watermark: this copy was sent to {', '.join(s['leaked_by'])}")
        for part in s["parts"]:
            if part["match"] == "text":
                how = (f"text: {part['share_of_document']:.0%} of the document, "
                       f"{part['share_of_part']:.0%} of the part")
            elif part["match"] == "file":
                how = "identical file"
            else:
                how = f"watermark of {part['recipient']}'s copy"
            print(f"    {part['location']}: {how}")


def cmd_trace(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    status = EXIT_OK
    store = TraceStore.open_for_reading(settings.data_path)
    try:
        for name in args.files:
            try:
                data = Path(name).read_bytes()
            except OSError as exc:
                print(f"dlp-gateway trace: cannot read {name}: {exc.strerror}", file=sys.stderr)
                return EXIT_USAGE
            found = read_found_document(data, Path(name).name, settings)
            results = trace_document(found, store) if store is not None else []
            if not results:
                status = EXIT_FOUND
            if args.json:
                print(json_text({"file": name, "messages": [r.summary() for r in results]}))
            else:
                _print_text(name, results)
    finally:
        if store is not None:
            store.close()
    return status
