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

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.bridgecrew.severities import get_severity
from checkov.common.models.enums import CheckCategories, CheckResult

from kds_iac.frontends import checkov_bridge as bridge
from kds_iac.model import CLOUDFORMATION

_RESULTS = {bridge.FAILED: CheckResult.FAILED, bridge.PASSED: CheckResult.PASSED, bridge.UNKNOWN: CheckResult.UNKNOWN}


class KdsCloudFormationCheck(BaseResourceCheck):
    """One kds-iac rule as a checkov CloudFormation resource check."""

    def __init__(self, spec: bridge.CheckSpec) -> None:
        self.spec = spec
        self._scanned_file = ""
        self._logical_id = ""
        super().__init__(
            name=spec.rule.title,
            id=spec.rule.checkov_id,
            categories=[getattr(CheckCategories, spec.category, CheckCategories.GENERAL_SECURITY)],
            supported_resources=list(spec.resource_types),
            guideline=spec.guideline,
        )
        self.severity = get_severity(spec.rule.severity.name)

    def run(self, scanned_file: str, entity_configuration: dict[str, Any], entity_name: str, entity_type: str, skip_info: Any) -> Any:
        self._scanned_file = scanned_file  # "/" + path relative to the scope root
        self._logical_id = entity_name  # the key under Resources: our address
        return super().run(scanned_file, entity_configuration, entity_name, entity_type, skip_info)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        located = bridge.recover_scope(CLOUDFORMATION, self._scanned_file, conf, frame=sys._getframe(1))
        if located is None:
            raise RuntimeError(f"kds-iac cannot tell which scope {self._scanned_file} ({self._logical_id}) belongs to")
        verdict = bridge.evaluate(self.spec.rule, located, self._logical_id)
        self.details.extend(verdict.messages)
        return _RESULTS[verdict.status]


CHECKS = [KdsCloudFormationCheck(spec) for spec in bridge.check_specs(CLOUDFORMATION)]
