"""The kds-iac checks, for ``checkov --external-checks-dir checks/`` from a clone.

A thin loader: the checks live in ``kds_iac/frontends/checkov_checks/`` (shipped in the
package); importing them here registers the same checks under the same ids.
"""

import os
import sys

try:
    import kds_iac  # noqa: F401
except ImportError:  # a clone that was not pip-installed: use the source tree beside this folder
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kds_iac.frontends.checkov_checks import (  # noqa: E402
    kds_iac_cloudformation_checks,
    kds_iac_serverless_checks,
    kds_iac_terraform_checks,
)

# checkov executes this file afresh for each runner, but the modules above are imported once
# per process: when its runners share one process (checkov's thread or sequential mode), the
# first to load them may be one that does not ask their checks, so each load asks again.
for _checks in (kds_iac_cloudformation_checks, kds_iac_serverless_checks, kds_iac_terraform_checks):
    _checks.register()
