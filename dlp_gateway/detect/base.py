"""The detector interface: a name, a description and one method.

Detectors are composed by configuration (see detect/__init__.py) and return findings;
they never raise for control flow. A detector that fails on odd input returns what it
found so far: detection must not take a message down.

A detector that reads the tokenised part texts (the fingerprint detector) sets
`uses_part_texts = True` and takes `detect(inspection, texts=...)`: the pipeline makes
one `fingerprints.PartTexts` per message and passes it to such detectors and then to
trace.compute_digests, so each text is tokenised once. Detectors keep no per-message
state between calls; what they cache (compiled rules, an index) they own per worker.
"""

from __future__ import annotations

from typing import Protocol

from dlp_gateway.model import Finding, Inspection


class Detector(Protocol):
    name: str
    description: str

    def detect(self, inspection: Inspection) -> list[Finding]:
        """Return every finding in the inspection (segments, facts and part bytes)."""
        ...
