"""Free text: find personal data (detector.py: names.py and patterns.py) and replace it (redaction.py).

Recall and precision are measured on labelled generated messages (evaluation.py); presidio.py runs
the same recognizers inside Presidio's engines for the benchmark.
"""

from hurricane_assets.masking.freetext.detector import Finding, detect
from hurricane_assets.masking.freetext.redaction import REDACTED, FreeTextRedaction, phone_region

__all__ = ["REDACTED", "Finding", "FreeTextRedaction", "detect", "phone_region"]
