"""Front-ends translate the engine's results; none of them builds on another.

The command line (with its report formats in ``kds_iac/output``), the language server, the
checkov checks and the cfn-lint pack each import the engine and the shared layer below them
(``kds_iac.reporting``, the model, the rules), never each other: a change to SARIF output
must not move the cfn-lint pack's messages, nor an editor's ranges move the checkov checks.
The one exception is the command line starting the others' entry points on request (its
``lsp`` subcommand starts the server).

Read from the source with ``ast`` (imports inside functions count too), so the test needs
none of checkov, cfn-lint or pygls importable.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "kds_iac"

# front-end -> the module name prefixes that belong to it
FRONT_ENDS = {
    "command line": ("kds_iac.cli", "kds_iac.output"),
    "language server": ("kds_iac.lsp",),
    "checkov": ("kds_iac.frontends.checkov_bridge", "kds_iac.frontends.checkov_runner", "kds_iac.frontends.checkov_checks"),
    "cfn-lint": ("kds_iac.frontends.cfnlint_rules",),
}
# (importing module, imported module): the command line starts the server for `kds-iac lsp`
ALLOWED = {("kds_iac.cli", "kds_iac.lsp.server")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _front_end(module: str) -> str | None:
    for name, prefixes in FRONT_ENDS.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    return None


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)  # a module or a name in one
    return found


def _crossings() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        own = _front_end(importer)
        if own is None:
            continue
        for line, imported in _imports(path):
            other = _front_end(imported)
            if other is None or other == own or (importer, imported) in ALLOWED:
                continue
            out.append(f"{path.relative_to(REPO)}:{line}: the {own} imports {imported} (the {other})")
    return sorted(set(out))


def test_front_ends_do_not_import_each_other():
    assert _crossings() == []


def test_the_layers_below_import_no_front_end():
    """The engine, loaders, views, rules and the shared reporting layer know no front-end."""
    offending = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        if _front_end(importer) is not None or importer == "kds_iac.__main__":
            continue
        for line, imported in _imports(path):
            if _front_end(imported) is not None:
                offending.append(f"{path.relative_to(REPO)}:{line}: imports {imported}")
    assert offending == []


def test_the_check_sees_an_import_across_front_ends(tmp_path):
    """The walk itself: a cfn-lint module that imports SARIF output is caught, relative or not."""
    global REPO, PACKAGE
    fake = tmp_path / "kds_iac" / "frontends" / "cfnlint_rules"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "bad.py").write_text(
        "def f():\n    from kds_iac.output.sarif import render\n    from ...lsp import validate\n"
    )
    real = REPO
    REPO, PACKAGE = tmp_path, tmp_path / "kds_iac"
    try:
        assert _crossings() == [
            "kds_iac/frontends/cfnlint_rules/bad.py:2: the cfn-lint imports kds_iac.output.sarif.render (the command line)",
            "kds_iac/frontends/cfnlint_rules/bad.py:3: the cfn-lint imports kds_iac.lsp.validate (the language server)",
        ]
    finally:
        REPO, PACKAGE = real, real / "kds_iac"
