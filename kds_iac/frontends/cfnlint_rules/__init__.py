"""kds-iac's cfn-lint rule pack.

Either form loads the same rules (ids E9xxx/W9xxx, see ``_pack``)::

    cfn-lint --append-rules kds_iac.frontends.cfnlint_rules template.yaml   # the dotted module
    cfn-lint --append-rules "$(kds-iac cfnlint-dir)" template.yaml           # the folder

The dotted form imports this package, so it exposes the generated classes and nothing else
that cfn-lint would take for a rule. Importing the package imports cfn-lint: the
``kds-iac`` command never does.
"""

from kds_iac.frontends.cfnlint_rules.kds_iac_cfnlint_rules import *  # noqa: F401,F403
from kds_iac.frontends.cfnlint_rules.kds_iac_cfnlint_rules import __all__  # noqa: F401
