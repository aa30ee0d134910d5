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

from kds_iac.frontends.checkov_runner import SERVERLESS_RUNNERS, loaded_for  # noqa: E402

CHECKS: list = []
_BUILT = False


def register() -> None:
    """Build (and so register with checkov) the function checks, once, unless the checkov
    runner loading this file is not the serverless one (``checkov_runner.loaded_for``): such a
    runner imports nothing more of ours."""
    global CHECKS, _BUILT
    if not _BUILT and loaded_for(SERVERLESS_RUNNERS, sys._getframe(1)):
        from kds_iac.frontends import checkov_bridge as bridge

        check = _check_class()
        CHECKS = [check(spec) for spec in bridge.serverless_function_specs()]
        _BUILT = True


def _check_class() -> type:
    from checkov.serverless.checks.function.base_function_check import BaseFunctionCheck

    from kds_iac.frontends import checkov_bridge as bridge

    def locate(check: Any, conf: dict[str, Any], frame: Any) -> bridge.ServerlessContext:
        context = bridge.serverless_context(frame)
        if context is None or context.function is None:
            raise RuntimeError("kds-iac cannot tell which service function checkov is checking")
        return context

    def judge(check: Any, context: bridge.ServerlessContext) -> bridge.Verdict:
        return bridge.evaluate_function(check.spec.rule, context)

    return bridge.check_class(
        "KdsServerlessFunctionCheck", BaseFunctionCheck, "supported_entities", "scan_function_conf", locate, judge,
        __name__, "One kds-iac rule as a checkov serverless function check.",
    )


register()
