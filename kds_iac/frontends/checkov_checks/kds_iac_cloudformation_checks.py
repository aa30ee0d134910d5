"""checkov CloudFormation checks: one ``CKV_KDS_<n>`` per kds-iac rule with CloudFormation types.

checkov runs this file as the module ``kds_iac_cloudformation_checks`` when given this folder
with ``--external-checks-dir``; ``checks/kds_iac_checks.py`` of a clone imports it under its
package name. A check runs the kds-iac engine once per scope and reports FAILED on the
resources the engine reported (see ``kds_iac.frontends.checkov_bridge``). checkov's
CloudFormation runner does not copy a check's ``details`` into its report, so the finding's
message reaches checkov's output for Terraform only.
"""

from __future__ import annotations

import os
import sys
from typing import Any

try:
    import kds_iac  # noqa: F401
except ImportError:  # this folder inside a source tree or a --target directory not on sys.path
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")))

from kds_iac.frontends.checkov_runner import CLOUDFORMATION_RUNNERS, loaded_for  # noqa: E402

CHECKS: list = []
_BUILT = False


def register() -> None:
    """Build (and so register with checkov) one check per rule, once, unless the checkov
    runner loading this file never asks CloudFormation checks (``checkov_runner.loaded_for``):
    such a runner imports nothing more of ours."""
    global CHECKS, _BUILT
    if not _BUILT and loaded_for(CLOUDFORMATION_RUNNERS, sys._getframe(1)):
        from kds_iac.frontends import checkov_bridge as bridge
        from kds_iac.model import CLOUDFORMATION

        check = _check_class()
        CHECKS = [check(spec) for spec in bridge.check_specs(CLOUDFORMATION)]
        _BUILT = True


def _check_class() -> type:
    from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck

    from kds_iac.frontends import checkov_bridge as bridge
    from kds_iac.model import CLOUDFORMATION

    def locate(check: Any, conf: dict[str, Any], frame: Any) -> tuple[bridge.Located, str]:
        logical_id = check._entity[1]  # the key under Resources: our address
        located = bridge.recover_scope(CLOUDFORMATION, check._scanned_file, conf, frame=frame)
        if located is None:
            raise RuntimeError(f"kds-iac cannot tell which scope {check._scanned_file} ({logical_id}) belongs to")
        return located, logical_id

    return bridge.check_class(
        "KdsCloudFormationCheck", BaseResourceCheck, "supported_resources", "scan_resource_conf", locate,
        bridge.judge_located, __name__, "One kds-iac rule as a checkov CloudFormation resource check.",
    )


register()
