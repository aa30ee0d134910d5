"""checkov Serverless Framework checks: ``CKV_KDS_<n>`` on a service's functions.

checkov's serverless runner judges ``resources.Resources`` with its CloudFormation checks (ours
in ``kds_iac_cloudformation_checks`` among them, named ``AWS::Type.LogicalId``) and asks
external checks about nothing else but functions. What the framework generates from the other
sections (the shared role ``IamRoleLambdaExecution`` and its statements, a function's
environment and stream events) is therefore reported on the functions: a finding on
``functions.NAME`` or one of its events on that function, a finding on the framework's role or
one of its statements (``provider.iam.role.statements[2]``) on every function that runs with
that role. Imported by checkov under its bare file name, like the other check files.
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
from checkov.serverless.checks.function.base_function_check import BaseFunctionCheck

from kds_iac.frontends import checkov_bridge as bridge

_RESULTS = {bridge.FAILED: CheckResult.FAILED, bridge.PASSED: CheckResult.PASSED, bridge.UNKNOWN: CheckResult.UNKNOWN}


class KdsServerlessFunctionCheck(BaseFunctionCheck):
    """One kds-iac rule as a checkov serverless function check."""

    def __init__(self, spec: bridge.CheckSpec) -> None:
        self.spec = spec
        super().__init__(
            name=spec.rule.title,
            id=spec.rule.checkov_id,
            categories=[getattr(CheckCategories, spec.category, CheckCategories.GENERAL_SECURITY)],
            supported_entities=list(spec.resource_types),
            guideline=spec.guideline,
        )
        self.severity = get_severity(spec.rule.severity.name)

    def scan_function_conf(self, conf: dict[str, Any]) -> CheckResult:
        context = bridge.serverless_context(sys._getframe(1))
        if context is None or context.function is None:
            raise RuntimeError("kds-iac cannot tell which service function checkov is checking")
        verdict = bridge.evaluate_function(self.spec.rule, context)
        self.details.extend(verdict.messages)
        return _RESULTS[verdict.status]


CHECKS = [KdsServerlessFunctionCheck(spec) for spec in bridge.serverless_function_specs()]
