"""kds-iac's rules for cfn-lint: ``cfn-lint --append-rules <this folder>`` (or the dotted
module ``kds_iac.frontends.cfnlint_rules``). One class per kds-iac rule, generated from the
rule registry; see ``_pack`` for the id mapping and how findings become matches.

cfn-lint instantiates every class in this module whose ancestry includes its
``CloudFormationLintRule``: only the generated rule classes live here.
"""

import os as _os
import sys as _sys

try:
    import kds_iac as _kds_iac  # noqa: F401
except ImportError:  # this folder in a source tree that was not pip-installed
    _sys.path.insert(0, _os.path.abspath(_os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "..", "..", "..")))

from kds_iac.frontends.cfnlint_rules._pack import rule_classes as _rule_classes  # noqa: E402

globals().update(_rule_classes())
__all__ = sorted(name for name in globals() if name.startswith("KdsIac"))
