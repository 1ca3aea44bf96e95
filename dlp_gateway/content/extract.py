"""Extraction entry point: raw message bytes in, an `Inspection` out.

`extract()` is a pure function that runs inside an inspection worker process. It walks
the MIME tree (mime.py) and hands every leaf, attachment, archive member and embedded
file to `Reader.read_file` (walk.py), which dispatches on the true type found by libmagic
to one reader per format family (pdf, office, odf, rtf, xmldoc, images, archives, legacy,
text_files). Limits (limits.py) are accounted per message (budget.py); hitting one ends
that branch with a `limit_exceeded` problem naming it.

It never raises and always returns: whatever could not be read is a `Problem` in the
result, so the policy can hold a message it could not read completely.
"""

from __future__ import annotations

import traceback

from dlp_gateway.content.limits import ExtractionLimits
from dlp_gateway.content.mime import read_message
from dlp_gateway.content.ocr import OcrEngine
from dlp_gateway.content.walk import Reader
from dlp_gateway.model import Inspection, ProblemKind


def extract(raw: bytes, limits: ExtractionLimits, ocr: OcrEngine | None = None) -> Inspection:
    """`ocr`: the worker's OCR engine, kept across messages (models loaded once, results
    cached); without it, one is made for this message."""
    reader = Reader(limits, ocr)
    try:
        read_message(reader, raw, "", 0)
    except MemoryError:
        reader.problem(ProblemKind.LIMIT_EXCEEDED, "(message)", "ran out of memory while reading", "memory")
    except RecursionError:
        reader.problem(ProblemKind.LIMIT_EXCEEDED, "(message)", "structure nested too deeply to read", "max_depth")
    except Exception as exc:  # never raise: record what could not be read
        where = traceback.extract_tb(exc.__traceback__)[-1]
        reader.problem(ProblemKind.CORRUPT, "(message)",
                       f"unreadable message: {type(exc).__name__}: {exc} ({where.name}:{where.lineno})"[:500])
    return reader.inspection
