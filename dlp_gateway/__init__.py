"""dlp-gateway: a data-loss-prevention SMTP gateway."""

import sys as _sys

__version__ = "0.1.0"

# PyMuPDF imports the optional `pymupdf_layout` and `pymupdf4llm` add-ons whenever they
# are installed, which pulls in onnxruntime: about 0.6 s and 100 MB in every process
# (gateway and each worker). dlp-gateway uses neither, so keep those imports from happening.
for _addon in ("pymupdf.layout", "pymupdf4llm"):
    _sys.modules.setdefault(_addon, None)  # type: ignore[arg-type]
