"""E-document markings: the 密等 of an ROC 公文 e-document (the `<密等 代碼="機密">` element
of its XML, read by extraction into an `edoc.secrecy` fact).

The value is written by the document system, not typed into prose, so it is read with
the shared level grammar alone and trusted highly (0.99); a text stamp never
declassifies it.
"""

from __future__ import annotations

import re

from dlp_gateway.detect.markings.grammar import _ROC_LEVEL, _roc_level, normalize
from dlp_gateway.model import Fact, Finding

FACT_NAME = "edoc.secrecy"


def edoc_finding(fact: Fact) -> Finding | None:
    """The finding of one `edoc.secrecy` fact, or None when its value is not a level."""
    value = normalize(fact.value).strip()
    m = re.fullmatch(_ROC_LEVEL, value)
    if m is None:
        return None
    return Finding("markings", "edoc_secrecy", fact.location, f'<密等 代碼="{value}">',
                   _roc_level(m), "EDOC", 0.99, ("official_document",))
