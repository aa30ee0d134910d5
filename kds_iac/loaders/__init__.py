"""Turn the paths a user names into one ``Model``.

Discovery decides what each file is (Terraform module directory, CloudFormation template by
content, Terraform plan JSON by content); each format's loader fills the model. A file that
cannot be read becomes a ``Diagnostic``; the rest of the scan goes on.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from kds_iac.loaders.discovery import discover
from kds_iac.model import Model


def load(
    paths: Sequence[str],
    *,
    var_files: Sequence[str] = (),
    variables: Optional[Mapping[str, str]] = None,
) -> Model:
    """Load every template under ``paths`` into one model whose scope is ``paths``."""
    from kds_iac.loaders import cloudformation, terraform, terraform_plan

    found = discover(paths)
    models: list[Model] = [Model(diagnostics=list(found.diagnostics))]
    for directory in found.terraform_modules:
        models.append(terraform.load_module(directory, var_files=var_files, variables=variables))
    for path in found.terraform_plans:
        models.append(terraform_plan.load_plan(path))
    for path in found.cloudformation_templates:
        models.append(cloudformation.load_template(path))
    return Model.merge(models, scope=[str(p) for p in paths])
