"""Per-message accounting of the extraction limits: time, bytes, members, OCR, text.

One `Budget` lives for one call of `extract()`. Readers ask it before doing work
("may I take these bytes?", "may I OCR one more page?") and it answers with the name of
the limit that forbids it, or None. It holds no policy about what to do on a refusal:
the reader records a `Problem` and stops that branch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from dlp_gateway.content.limits import ExtractionLimits


@dataclass(slots=True)
class Budget:
    limits: ExtractionLimits
    started: float = field(default_factory=time.monotonic)
    total_bytes: int = 0
    members: int = 0
    ocr_pages: int = 0
    ocr_seconds: float = 0.0
    text_chars: int = 0
    decompressed_bytes: int = 0

    @property
    def deadline(self) -> float:
        return self.started + self.limits.max_seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    def seconds_left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def take_member(self) -> str | None:
        """Count one more part/member; the limit name if that is one too many."""
        if self.members >= self.limits.max_members:
            return "max_members"
        self.members += 1
        return None

    def bytes_allowed(self) -> int:
        """How many more bytes one member may produce (the smaller of both byte limits)."""
        return max(0, min(self.limits.max_member_bytes, self.limits.max_total_bytes - self.total_bytes))

    def byte_limit_name(self) -> str:
        """Which byte limit `bytes_allowed` is bounded by."""
        left_total = self.limits.max_total_bytes - self.total_bytes
        return "max_total_bytes" if left_total < self.limits.max_member_bytes else "max_member_bytes"

    def take_bytes(self, count: int) -> str | None:
        """Charge `count` decoded bytes; the limit name if they do not fit."""
        if count > self.limits.max_member_bytes:
            return "max_member_bytes"
        if self.total_bytes + count > self.limits.max_total_bytes:
            return "max_total_bytes"
        self.total_bytes += count
        return None

    def decompressed_left(self) -> int:
        """Bytes archives may still decompress for this message (`max_decompressed_bytes`)."""
        return max(0, self.limits.max_decompressed_bytes - self.decompressed_bytes)

    def charge_decompressed(self, count: int) -> None:
        self.decompressed_bytes += count

    def ocr_refusal(self) -> str | None:
        """The limit that forbids OCR of one more page, or None."""
        if self.ocr_pages >= self.limits.max_ocr_pages:
            return "max_ocr_pages"
        if self.ocr_seconds >= self.limits.max_ocr_seconds:
            return "max_ocr_seconds"
        if self.out_of_time():
            return "max_seconds"
        return None

    def charge_ocr(self, seconds: float) -> None:
        self.ocr_pages += 1
        self.ocr_seconds += seconds

    def take_text(self, count: int) -> int:
        """Characters of a text that may still be kept (0 once `max_text_chars` is reached)."""
        allowed = max(0, min(count, self.limits.max_text_chars - self.text_chars))
        self.text_chars += allowed
        return allowed
