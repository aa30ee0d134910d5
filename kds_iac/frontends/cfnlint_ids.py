"""cfn-lint ids of kds-iac rules, without importing cfn-lint (``kds-iac rules`` shows them).

``KDS<nnn>`` becomes ``<L>9<nnn>``: the number is the rule's own, so two rules never
collide and an id never changes while the rule keeps its severity; ``9`` is cfn-lint's
range for user rules; the letter is cfn-lint's level, from the severity:
critical and high -> ``E`` (error), medium and low -> ``W`` (warning), info -> ``I``
(informational, which cfn-lint leaves out unless asked). ``E9000`` is reserved for
"kds-iac could not read the template" (no rule is numbered 000).
"""

from __future__ import annotations

import re
from typing import Any

LETTERS = {"CRITICAL": "E", "HIGH": "E", "MEDIUM": "W", "LOW": "W", "INFO": "I"}
INPUT_ERROR_ID = "E9000"
_RULE_ID = re.compile(r"^KDS(\d{3})$")


def cfnlint_id(rule: Any) -> str:
    """``KDS001`` (high) -> ``E9001``; ``KDS003`` (medium) -> ``W9003``."""
    match = _RULE_ID.match(rule.id)
    if not match or match.group(1) == "000":
        raise ValueError(f"{rule.id}: cannot map to a cfn-lint id (expected KDS001..KDS999)")
    return f"{LETTERS[rule.severity.name]}9{match.group(1)}"
