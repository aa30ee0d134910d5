"""Shared test helpers: paths of the repository, its examples, and the tools' executables."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def tool(name: str) -> str:
    """An executable installed beside the running interpreter (the test environment's)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed in the test environment")
    return found


os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


# Tests of loaders, front-ends and output use streams without a CloudTrail trail; they
# declare the account's organization trail (with Kinesis data events) so that the CloudTrail
# coverage rules (KDS020, KDS022) stay out of what they assert. tests/rules and the examples
# test those rules.
ORGANIZATION_TRAIL_SETTINGS = (
    'organization-trail: "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit (test)"\n'
    "organization-trail-data-events: true\n"
)


def declare_organization_trail(directory: Path) -> Path:
    """Write ``.kds-iac.yaml`` declaring the organization trail into ``directory``."""
    path = Path(directory) / ".kds-iac.yaml"
    path.write_text(ORGANIZATION_TRAIL_SETTINGS)
    return path


def audited_config():
    """Settings with the organization trail declared, for tests that call the engine."""
    from kds_iac.config import AuditSettings, Config

    return Config(audit=AuditSettings(organization_trail="org-audit (test)", organization_trail_data_events=True))
