"""Which checkov runner is loading our check files, told before anything else of ours is imported.

checkov loads every external checks folder in each of its framework runners (about twenty
with ``-d``: Kubernetes, Dockerfile, GitHub Actions, ...), each in a process of its own. Only
a few of them ever ask our checks; the others should pay nothing for them. This module imports
nothing of kds-iac or checkov, so that a check file can ask ``loaded_for`` first and import the
bridge, the rules and checkov's base classes only for a runner that asks (benchmarks/README.md,
checkov overhead).
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Optional, Sequence

# checkov runners that ask the checks of each of our check files (the registries they read)
TERRAFORM_RUNNERS = ("terraform", "terraform_json", "terraform_plan")  # Terraform resource and provider checks
CLOUDFORMATION_RUNNERS = ("cloudformation", "serverless")  # CloudFormation resource checks
SERVERLESS_RUNNERS = ("serverless",)  # Serverless function checks


def loaded_for(runners: Sequence[str], frame: Optional[FrameType] = None) -> bool:
    """Whether the checkov runner loading a check file is one of ``runners``: the nearest
    caller whose ``self`` has a ``check_type``; True when nothing is loading through a runner
    (a program or a test importing the file)."""
    current = frame if frame is not None else sys._getframe(1)
    depth = 0
    while current is not None and depth < 80:
        check_type = getattr(current.f_locals.get("self"), "check_type", None)
        if isinstance(check_type, str):
            return check_type in runners
        current = current.f_back
        depth += 1
    return True
