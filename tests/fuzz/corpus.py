"""Seeds per loader, taken from the repository's examples and test fixtures.

A *seed* is what one case starts from: a Terraform module directory (copied whole, so child
modules and ``file()`` targets come along) or a single template/plan file. Adding a loader is
one line in ``LOADERS``: a name, the seed finder, and whether its cases need Go (tfparse).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

REPO = Path(__file__).resolve().parent.parent.parent
SEED_ROOTS = (REPO / "examples", REPO / "tests" / "fixtures")
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
# Files inside a seed that mutators may change; the rest (e.g. settings) are copied as they are.
MUTABLE_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".tpl", ".tftpl", ".json", ".yaml", ".yml", ".template")


class Seed(NamedTuple):
    path: Path  # a directory (Terraform module tree) or one file
    loader: str

    @property
    def name(self) -> str:
        return str(self.path.relative_to(REPO))

    def mutable_files(self) -> list[Path]:
        """Files of the seed a mutation may target, in a stable order."""
        if self.path.is_file():
            return [self.path]
        return sorted(
            p for p in self.path.rglob("*")
            if p.is_file() and p.name.endswith(MUTABLE_SUFFIXES) and p.name != ".kds-iac.yaml"
        )


def _is_terraform(name: str) -> bool:
    return name.endswith(".tf") or name.endswith(".tf.json")


def terraform_modules() -> list[Path]:
    """Each directory right under a seed root's subtree that holds Terraform, taken whole.

    A directory qualifies when it holds ``.tf`` files itself or is the first directory on a
    path down to them (so ``examples/terraform/module-defaults`` comes with its child module).
    """
    found: list[Path] = []
    for root in SEED_ROOTS:
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()
            if any(_is_terraform(f) for f in files):
                found.append(Path(directory))
                subdirs[:] = []  # the module's own subtree comes with it
    return sorted(found)


def _template_files(wanted: Callable[[str, str], bool]) -> list[Path]:
    found = []
    for root in SEED_ROOTS:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or not path.name.lower().endswith(TEMPLATE_SUFFIXES):
                continue
            if path.name == ".kds-iac.yaml" or _is_terraform(path.name) or ".github" in path.parts:
                continue
            text = path.read_bytes()[:65536].decode("utf-8", "replace")
            if wanted(path.name, text):
                found.append(path)
    return found


def _is_plan(text: str) -> bool:
    return '"planned_values"' in text or '"terraform_version"' in text


def _is_sam(text: str) -> bool:
    return "AWS::Serverless" in text


def _is_cloudformation(name: str, text: str) -> bool:
    return not _is_plan(text) and not _is_sam(text) and not _is_serverless(name) and (
        "AWSTemplateFormatVersion" in text or "AWS::" in text or "Resources" in text
    )


def _is_serverless(name: str) -> bool:
    return name.lower() in ("serverless.yml", "serverless.yaml")


def cloudformation_templates() -> list[Path]:
    return _template_files(_is_cloudformation)


def sam_templates() -> list[Path]:
    return _template_files(lambda name, text: _is_sam(text) and not _is_plan(text))


def terraform_plans() -> list[Path]:
    return _template_files(lambda name, text: name.endswith(".json") and _is_plan(text))


def serverless_services() -> list[Path]:
    """The directory of each ``serverless.yml``, whole: its ``${file(...)}`` includes come along."""
    return [path.parent for path in _template_files(lambda name, text: _is_serverless(name))]


class Loader(NamedTuple):
    name: str
    seeds: Callable[[], list[Path]]
    needs_go: bool  # tfparse runs in-process: its cases need the crash-tolerant worker


# One line per loader. "scan" mixes seeds of every other loader into one scanned tree.
LOADERS: dict[str, Loader] = {
    "terraform": Loader("terraform", terraform_modules, needs_go=True),
    "cloudformation": Loader("cloudformation", cloudformation_templates, needs_go=False),
    "sam": Loader("sam", sam_templates, needs_go=False),
    "plan": Loader("plan", terraform_plans, needs_go=False),
    "serverless": Loader("serverless", serverless_services, needs_go=False),
}
WHOLE_SCAN = "scan"
ALL = tuple(LOADERS) + (WHOLE_SCAN,)


def seeds_for(loader: str) -> list[Seed]:
    """The seeds of one loader; for the whole scan, the seeds of all of them."""
    names: Iterable[str] = LOADERS if loader == WHOLE_SCAN else (loader,)
    return [Seed(path, name) for name in names for path in LOADERS[name].seeds()]
