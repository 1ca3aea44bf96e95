"""Classification markings.

Interim version: banner lines only (a whole line that is a level). The detection issue
replaces this with the full marking grammar, keeping `MarkingDetector`.
"""

from __future__ import annotations

import re
import unicodedata

from dlp_gateway.model import Finding, Inspection, Level

_BANNERS = {
    "絕對機密": (Level.TOP_SECRET, "ROC"),
    "極機密": (Level.SECRET, "ROC"),
    "機密": (Level.CONFIDENTIAL, "ROC"),
    "TOP SECRET": (Level.TOP_SECRET, "US"),
    "SECRET": (Level.SECRET, "US"),
    "CONFIDENTIAL": (Level.CONFIDENTIAL, "US"),
}
_LINE = re.compile(r"^\s*[【\[(（]?\s*(" + "|".join(sorted(map(re.escape, _BANNERS), key=len, reverse=True)) + r")\s*[】\])）]?\s*$", re.M)


class MarkingDetector:
    name = "markings"
    description = "Classification markings (banner lines)"

    def detect(self, inspection: Inspection) -> list[Finding]:
        findings = []
        for segment in inspection.segments:
            text = unicodedata.normalize("NFKC", segment.text)
            for match in _LINE.finditer(text):
                level, system = _BANNERS[match.group(1)]
                findings.append(Finding("markings", f"{system.lower()}_banner", segment.location,
                                        match.group(0).strip(), level, system, 0.9))
        return findings
