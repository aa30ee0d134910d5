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

from kds_iac.frontends.checkov_runner import TERRAFORM_RUNNERS, loaded_for  # noqa: E402

CHECKS: list = []
PROVIDER_CHECKS: list = []
_BUILT = False


def register() -> None:
    """Build (and so register with checkov) one check per rule, once, unless the checkov
    runner loading this file never asks Terraform checks (``checkov_runner.loaded_for``):
    such a runner imports nothing more of ours."""
    global CHECKS, PROVIDER_CHECKS, _BUILT
    if not _BUILT and loaded_for(TERRAFORM_RUNNERS, sys._getframe(1)):
        from kds_iac.frontends import checkov_bridge as bridge
        from kds_iac.model import TERRAFORM

        resource_check, provider_check = _check_classes()
        CHECKS = [resource_check(spec) for spec in bridge.check_specs(TERRAFORM)]
        PROVIDER_CHECKS = [provider_check(spec) for spec in bridge.provider_check_specs()]
        _BUILT = True


def _check_classes() -> tuple[type, type]:
    from checkov.terraform.checks.provider.base_check import BaseProviderCheck
    from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

    from kds_iac.frontends import checkov_bridge as bridge
    from kds_iac.model import TERRAFORM

    def located(check: Any, conf: dict[str, Any], address: Any, frame: Any) -> bridge.Located:
        found = bridge.recover_scope(TERRAFORM, check._scanned_file, conf, check.graph, frame=frame)
        if found is None or not isinstance(address, str):
            raise RuntimeError(f"kds-iac cannot tell which scope {check._scanned_file} ({address}) belongs to")
        return found

    def locate_resource(check: Any, conf: dict[str, Any], frame: Any) -> tuple[bridge.Located, str]:
        address = conf.get("__address__") or ".".join(check._entity)  # checkov gives no __address__ for .tf.json
        return located(check, conf, address, frame), address

    def locate_provider(check: Any, conf: dict[str, Any], frame: Any) -> tuple[bridge.Located, str]:
        address = conf.get("__address__")
        return located(check, conf, address, frame), bridge.provider_address(address)

    resource_check = bridge.check_class(
        "KdsTerraformCheck", BaseResourceCheck, "supported_resources", "scan_resource_conf", locate_resource,
        bridge.judge_located, __name__, "One kds-iac rule as a checkov Terraform resource check.",
    )
    provider_check = bridge.check_class(
        "KdsTerraformProviderCheck", BaseProviderCheck, "supported_provider", "scan_provider_conf", locate_provider,
        bridge.judge_located, __name__,
        "One kds-iac rule as a checkov provider check, for findings on ``provider`` blocks: checkov names a provider "
        "block ``aws.default`` / ``aws.<alias>`` (``module.m.aws.x`` in a module), the engine ``provider.aws`` / ``provider.aws.<alias>``.",
    )
    return resource_check, provider_check


register()
