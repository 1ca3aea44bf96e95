"""`dlp-gateway fingerprint add|list|remove`: manage the register of sensitive documents.

`add` reads each file exactly as the gateway reads an attachment (every format the
extraction stage knows, OCR for scans and images), so what is registered is the same
text a message would show: then stores the file's SHA-256, the hash of its normalised
text and its winnowing fingerprints. Never the text itself.
"""

from __future__ import annotations

import argparse
import hashlib
import mimetypes
import sys
from dataclasses import dataclass
from pathlib import Path

from dlp_gateway.cli import EXIT_FOUND, EXIT_OK, EXIT_USAGE, settings_from_args
from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.detect import textnorm
from dlp_gateway.detect.fingerprints import NON_CONTENT_KINDS
from dlp_gateway.model import Inspection, Level, ProblemKind
from dlp_gateway.store.fingerprints import FingerprintStore, NewDocument
from dlp_gateway.termsafe import json_text, printable


@dataclass(slots=True)
class ReadDocument:
    """A file read the way the gateway reads an attachment."""

    filename: str
    data: bytes
    sha256: str
    inspection: Inspection
    text: str  # all content text of the file, in reading order

    @property
    def part_sha256s(self) -> tuple[str, ...]:
        """SHA-256 of the file and of every file inside it (archive members, embedded files)."""
        return tuple(dict.fromkeys([self.sha256, *(p.sha256 for p in self.inspection.parts)]))


def read_document(data: bytes, filename: str, limits: ExtractionLimits) -> ReadDocument:
    """Read a single file through the extraction stage's one door for files.

    `Reader.read_file` is the very path an attachment takes through the gateway: true
    type by content, the format's reader, archives opened, OCR for scans and images.
    """
    from dlp_gateway.content.walk import Reader

    reader = Reader(limits)
    try:
        reader.read_file(data, filename, filename=filename,
                         declared_type=mimetypes.guess_type(filename)[0], depth=1)
    except Exception as exc:  # the stage records problems itself; this is a last resort
        reader.problem(ProblemKind.CORRUPT, filename, f"unreadable file: {type(exc).__name__}: {exc}"[:500])
    inspection = reader.inspection
    texts = [s.text for s in inspection.segments if s.kind not in NON_CONTENT_KINDS and s.text.strip()]
    return ReadDocument(filename, data, hashlib.sha256(data).hexdigest(), inspection, "\n".join(texts))


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("fingerprint", parents=[common],
                                   help="manage the register of sensitive documents")
    sub = parser.add_subparsers(dest="fingerprint_command", metavar="ACTION")
    add = sub.add_parser("add", parents=[common], help="register documents (any readable format, scans too)")
    add.add_argument("--label", required=True, help="what the documents are, shown in findings")
    add.add_argument("--level", help="classification level findings carry: top_secret, secret, confidential, restricted")
    add.add_argument("--json", action="store_true", help="print one JSON object per registered document")
    add.add_argument("files", nargs="+", metavar="FILE")
    add.set_defaults(func=cmd_add)
    lst = sub.add_parser("list", parents=[common], help="list registered documents")
    lst.add_argument("--json", action="store_true", help="one JSON object per line")
    lst.set_defaults(func=cmd_list)
    rm = sub.add_parser("remove", parents=[common], help="remove registered documents by id")
    rm.add_argument("ids", nargs="+", metavar="ID")
    rm.set_defaults(func=cmd_remove)
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), EXIT_USAGE)[1])


def cmd_add(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    level = None
    if args.level:
        try:
            level = Level.parse(args.level).label
        except ValueError as exc:
            print(f"dlp-gateway fingerprint add: {exc}", file=sys.stderr)
            return EXIT_USAGE
    files: list[tuple[Path, bytes]] = []
    for name in args.files:  # all readable, or nothing is registered
        path = Path(name)
        try:
            files.append((path, path.read_bytes()))
        except OSError as exc:
            print(f"dlp-gateway fingerprint add: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    status = EXIT_OK
    with FingerprintStore(settings.data_path) as store:
        for path, data in files:
            doc = read_document(data, path.name, settings.limits)
            tokens = textnorm.tokenize(doc.text)
            hashes = textnorm.winnow_tokens(tokens)
            for problem in doc.inspection.problems:
                print(printable(f"warning: {path}: {problem.location}: {problem.kind}: {problem.detail}"),
                      file=sys.stderr)
            if not len(hashes):
                print(f"warning: {path}: no readable text; only the exact file will be recognised",
                      file=sys.stderr)
                status = EXIT_FOUND
            registered = store.add(NewDocument(
                label=args.label, filename=path.name, sha256=doc.sha256,
                text_hash=textnorm.text_hash(tokens) if len(tokens) else None,
                size=len(data), level=level, winnow_version=textnorm.WINNOW_VERSION,
                hashes=textnorm.pack(hashes), hash_count=len(hashes),
            ))
            if args.json:
                print(json_text(registered.summary()))
            else:
                print("\t".join(printable(v) for v in (registered.id, registered.label, path.name,
                                                       f"{len(hashes)} fingerprints")))
    return status


def cmd_list(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    store = FingerprintStore.open_for_reading(settings.data_path)
    documents = [] if store is None else store.list()
    if store is not None:
        store.close()
    for doc in documents:
        if args.json:
            print(json_text(doc.summary()))
        else:
            summary = doc.summary()
            print("\t".join(printable(v) for v in (doc.id, doc.label, doc.filename, summary["added_at"],
                                                   doc.level or "-", f"{doc.hash_count} fingerprints")))
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    status = EXIT_OK
    with FingerprintStore(settings.data_path) as store:
        for doc_id in args.ids:
            if store.remove(doc_id):
                print(f"removed {doc_id}")
            else:
                print(f"dlp-gateway fingerprint remove: no registered document {doc_id!r} "
                      "(see `dlp-gateway fingerprint list`)", file=sys.stderr)
                status = EXIT_FOUND
    return status
