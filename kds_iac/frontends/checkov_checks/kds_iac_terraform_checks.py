"""checkov Terraform checks: one ``CKV_KDS_<n>`` per kds-iac rule with Terraform resource types.

checkov runs this file as the module ``kds_iac_terraform_checks`` when given this folder with
``--external-checks-dir``; ``checks/kds_iac_checks.py`` of a clone imports it under its package
name. A check runs the kds-iac engine once per scope and reports FAILED on the resources the
engine reported (see ``kds_iac.frontends.checkov_bridge``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

try:
    import kds_iac  # noqa: F401
except ImportError:  # this folder inside a source tree or a --target directory not on sys.path
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")))

from checkov.common.bridgecrew.severities import get_severity
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from kds_iac.frontends import checkov_bridge as bridge
from kds_iac.model import TERRAFORM

_RESULTS = {bridge.FAILED: CheckResult.FAILED, bridge.PASSED: CheckResult.PASSED, bridge.UNKNOWN: CheckResult.UNKNOWN}


class KdsTerraformCheck(BaseResourceCheck):
    """One kds-iac rule as a checkov Terraform resource check."""

    def __init__(self, spec: bridge.CheckSpec) -> None:
        self.spec = spec
        self._scanned_file = ""
        self._entity = ""
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
        self._entity = f"{entity_type}.{entity_name}"  # the address where checkov gives no __address__ (.tf.json)
        return super().run(scanned_file, entity_configuration, entity_name, entity_type, skip_info)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        address = conf.get("__address__") or self._entity
        located = bridge.recover_scope(TERRAFORM, self._scanned_file, conf, self.graph, frame=sys._getframe(1))
        if located is None or not isinstance(address, str):
            raise RuntimeError(f"kds-iac cannot tell which scope {self._scanned_file} ({address}) belongs to")
        verdict = bridge.evaluate(self.spec.rule, located, address)
        self.details.extend(verdict.messages)
        return _RESULTS[verdict.status]


class KdsTerraformProviderCheck(BaseProviderCheck):
    """One kds-iac rule as a checkov provider check, for findings on ``provider`` blocks.

    checkov names a provider block ``aws.default`` / ``aws.<alias>`` (``module.m.aws.x`` in a
    module); the engine ``provider.aws`` / ``provider.aws.<alias>``.
    """

    def __init__(self, spec: bridge.CheckSpec) -> None:
        self.spec = spec
        self._scanned_file = ""
        super().__init__(
            name=spec.rule.title,
            id=spec.rule.checkov_id,
            categories=[getattr(CheckCategories, spec.category, CheckCategories.GENERAL_SECURITY)],
            supported_provider=list(spec.resource_types),
            guideline=spec.guideline,
        )
        self.severity = get_severity(spec.rule.severity.name)

    def run(self, scanned_file: str, entity_configuration: dict[str, Any], entity_name: str, entity_type: str, skip_info: Any) -> Any:
        self._scanned_file = scanned_file
        return super().run(scanned_file, entity_configuration, entity_name, entity_type, skip_info)

    def scan_provider_conf(self, conf: dict[str, Any]) -> CheckResult:
        address = conf.get("__address__")
        located = bridge.recover_scope(TERRAFORM, self._scanned_file, conf, self.graph, frame=sys._getframe(1))
        if located is None or not isinstance(address, str):
            raise RuntimeError(f"kds-iac cannot tell which scope {self._scanned_file} ({address}) belongs to")
        verdict = bridge.evaluate(self.spec.rule, located, bridge.provider_address(address))
        self.details.extend(verdict.messages)
        return _RESULTS[verdict.status]


CHECKS = [KdsTerraformCheck(spec) for spec in bridge.check_specs(TERRAFORM)]
PROVIDER_CHECKS = [KdsTerraformProviderCheck(spec) for spec in bridge.provider_check_specs()]
