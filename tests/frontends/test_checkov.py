"""The checkov front-end, through the real ``checkov`` executable as a user runs it.

A check that raises, or a check file that fails to import, only makes checkov log; its exit
code does not change. So every test here asserts on what checkov printed: our ids, on
exactly the resources the engine reports, in every output format.

checkov starts in ~2 s and a run over these trees takes ~5-7 s, so each tree is scanned once
per module (fixtures below) and the tests share the runs.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

from kds_iac import engine
from kds_iac.config import resolve_config
from kds_iac.frontends import checkov_bridge as bridge
from kds_iac.model import CLOUDFORMATION, TERRAFORM
from kds_iac.rules import all_rules
from tests.conftest import EXAMPLES, REPO, tool

PACKAGE_CHECKS = REPO / "kds_iac" / "frontends" / "checkov_checks"
CLONE_CHECKS = REPO / "checks"
FIXTURES = REPO / "tests" / "fixtures" / "checkov"
# Every checkov output format that can go to a file in one run (--output-file-path a,b,...).
# csv cannot: it always writes <dir>/<timestamp>_iac.csv, so it runs with the CloudFormation scan.
FILE_FORMATS = (
    "cli", "cyclonedx", "cyclonedx_json", "json", "junitxml", "github_failed_only", "gitlab_sast", "sarif", "spdx",
)
OUR_IDS = tuple(sorted(m.rule.checkov_id for m in all_rules()))


# --------------------------------------------------------------------------- running checkov


@dataclass(frozen=True)
class Rec:
    check_id: str
    result: str  # PASSED, FAILED or SKIPPED
    file: str  # real absolute path
    address: str  # Terraform address or CloudFormation logical id
    caller: Optional[str] = None  # checkov's caller_file_path for module resources
    details: tuple[str, ...] = ()
    comment: Optional[str] = None
    framework: str = ""  # checkov's check_type

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.check_id, self.file, self.address)


@dataclass
class CheckovRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    records: list[Rec] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)

    def keys(self, result: str) -> set[tuple[str, str, str]]:
        return {r.key for r in self.records if r.result == result}

    def engine_runs(self) -> list[str]:
        return re.findall(r"kds-iac: scope (\S+):", self.stderr)

    def problems(self) -> list[str]:
        """Lines where checkov says our checks failed to load or run, or we said so."""
        patterns = ("Failed to run check CKV_KDS", "Cannot load external check", "kds-iac:")
        return [
            line for line in self.stderr.splitlines()
            if any(p in line for p in patterns) and ("[ERROR" in line or "[WARNING" in line)
        ]


def run_checkov(
    args: list[str],
    checks_dir: Path,
    *,
    cwd: Path = REPO,
    formats: tuple[str, ...] = ("json",),
    out_dir: Optional[Path] = None,
    env: Optional[dict[str, str]] = None,
) -> CheckovRun:
    command = [tool("checkov"), *args, "--external-checks-dir", os.path.relpath(checks_dir, cwd)]
    command += ["--skip-download", "--check", "CKV_KDS_*"]
    outputs: dict[str, Path] = {}
    for fmt in formats:
        command += ["-o", fmt]
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        if "csv" in formats:  # json and the rest go to stdout, csv into the folder
            command += ["--output-file-path", str(out_dir)]
        else:
            outputs = {fmt: out_dir / f"results.{fmt}" for fmt in formats}
            command += ["--output-file-path", ",".join(str(p) for p in outputs.values())]
    full_env = {**os.environ, "LOG_LEVEL": "INFO", **(env or {})}
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)
    run = CheckovRun(command, done.returncode, done.stdout, done.stderr, time.monotonic() - started, outputs=outputs)
    assert done.returncode in (0, 1), f"checkov exited {done.returncode}:\n{done.stderr[-4000:]}"
    if "json" in outputs:
        text = outputs["json"].read_text()
    else:
        lines = done.stdout.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith(("[", "{")))
        text = "\n".join(lines[start:]).split("--- OUTPUT DELIMITER ---")[0]
    run.records = [record for document in json_documents(text) for record in parse_json_report(document, cwd)]
    return run


def json_documents(text: str) -> list:
    """checkov prints one JSON document per ``-d`` directory, one after the other."""
    decoder = json.JSONDecoder()
    documents, index = [], 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return documents
        document, index = decoder.raw_decode(text, index)
        documents.append(document)


def parse_json_report(data, cwd: Path) -> list[Rec]:
    reports = data if isinstance(data, list) else [data]
    records = []
    for report in reports:
        if not isinstance(report, dict) or "results" not in report:
            continue
        for kind, result in (("passed_checks", "PASSED"), ("failed_checks", "FAILED"), ("skipped_checks", "SKIPPED")):
            for item in report["results"].get(kind, []):
                if not item["check_id"].startswith("CKV_KDS_"):
                    continue
                resource = item["resource"]
                if report["check_type"] == "cloudformation":
                    resource = resource.split(".", 1)[1]  # "AWS::Kinesis::Stream.Plain" -> "Plain"
                elif report["check_type"] == "terraform":
                    resource = bridge.provider_address(resource)  # "aws.default" -> "provider.aws"
                records.append(
                    Rec(
                        check_id=item["check_id"],
                        result=result,
                        file=os.path.realpath(os.path.join(cwd, item["file_abs_path"])),
                        address=resource,
                        caller=item.get("caller_file_path"),
                        details=tuple(item.get("details") or ()),
                        comment=item["check_result"].get("suppress_comment"),
                        framework=report["check_type"],
                    )
                )
    return records


@dataclass
class EngineView:
    findings: set[tuple[str, str, str]]
    suppressed: set[tuple[str, str, str]]
    messages: dict[tuple[str, str, str], set[str]]


def engine_view(path: Path) -> EngineView:
    """The engine on ``path`` as a user at the repository root would name it."""
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        relative = os.path.relpath(path, REPO)
        # as the checkov bridge asks: every instance, not one finding per place
        result = engine.scan([relative], config=resolve_config(None, [relative]), one_finding_per_place=False)
    finally:
        os.chdir(cwd)
    assert [d for d in result.diagnostics if d.level == "error"] == []

    def key(finding):
        return (finding.rule.checkov_id, os.path.realpath(os.path.join(REPO, finding.location.file)), finding.address)

    messages: dict[tuple[str, str, str], set[str]] = {}
    for finding in result.findings + result.suppressed:
        messages.setdefault(key(finding), set()).add(finding.message)
    return EngineView({key(f) for f in result.findings}, {key(f) for f in result.suppressed}, messages)


# --------------------------------------------------------------------------- the shared runs


@pytest.fixture(scope="module", autouse=True)
def _no_stray_console_file():
    """One of the checkov runs below leaves an empty file named ``console`` in the working
    directory (the repository); remove it so a test run leaves the checkout as it found it."""
    stray = REPO / "console"
    existed = stray.exists()
    yield
    if not existed and stray.exists() and stray.stat().st_size == 0:
        stray.unlink()



@pytest.fixture(scope="module")
def examples_terraform(tmp_path_factory) -> CheckovRun:
    """As documented for a clone: ``checkov -d examples/terraform --external-checks-dir checks/``."""
    out = tmp_path_factory.mktemp("checkov-tf")
    return run_checkov(["-d", "examples/terraform"], CLONE_CHECKS, formats=FILE_FORMATS, out_dir=out)


@pytest.fixture(scope="module")
def examples_cloudformation(tmp_path_factory) -> CheckovRun:
    out = tmp_path_factory.mktemp("checkov-cfn")
    run = run_checkov(["-d", "examples/cloudformation"], CLONE_CHECKS, formats=("json", "csv"), out_dir=out)
    run.outputs["csv"] = next(out.glob("*_iac.csv"))
    return run


@pytest.fixture(scope="module")
def fixtures_run() -> CheckovRun:
    """The package's own folder, as ``kds-iac checkov-dir`` prints it."""
    return run_checkov(["-d", os.path.relpath(FIXTURES, REPO)], PACKAGE_CHECKS)


@pytest.fixture(scope="module")
def fixtures_run_without_frames() -> CheckovRun:
    """Scope from the resource data alone (graph ``file_path_``, ``__file__``), absolute -d.

    The terraform_json runner gives neither a graph nor a file in the conf: only the frames
    locate a ``.tf.json`` resource, so that framework is left out here.
    """
    args = ["-d", str(FIXTURES), "--framework", "terraform", "cloudformation"]
    return run_checkov(args, PACKAGE_CHECKS, env={bridge.NO_FRAMES_ENV: "1"})


@pytest.fixture(scope="module")
def file_mode_run() -> CheckovRun:
    """``-f`` with an absolute path below the working directory and a relative one."""
    template = FIXTURES / "cloudformation" / "streams.yaml"
    module_file = FIXTURES / "terraform" / "main.tf"
    return run_checkov(["-f", str(template), "-f", os.path.relpath(module_file, REPO)], CLONE_CHECKS)


SCOPE_WIDE = tuple(m for m in all_rules() if m.rule.scope_wide)


def scope_wide_units(framework: str) -> list[str]:
    """Every example a scope-wide rule names, in ``framework``."""
    return sorted(
        {unit for m in SCOPE_WIDE for unit in (*m.examples[framework].bad, *m.examples[framework].good)}
    )


@pytest.fixture(scope="module")
def scope_wide_run() -> CheckovRun:
    """Each example of the scope-wide rules as a scope of its own: one ``-d`` per example."""
    args = [
        arg
        for framework in (TERRAFORM, CLOUDFORMATION)
        for unit in scope_wide_units(framework)
        for arg in ("-d", f"examples/{framework}/{unit}")
    ]
    return run_checkov(args, CLONE_CHECKS)


ALL_RUNS = (
    "examples_terraform", "examples_cloudformation", "fixtures_run", "fixtures_run_without_frames", "file_mode_run",
    "scope_wide_run",
)
EXAMPLE_RUNS = {TERRAFORM: "examples_terraform", CLOUDFORMATION: "examples_cloudformation"}


# --------------------------------------------------------------------------- checks exist and load


def test_one_check_per_rule_per_framework():
    from checkov.cloudformation.checks.resource.registry import cfn_registry
    from checkov.common.models.enums import CheckCategories
    from checkov.terraform.checks.resource.registry import resource_registry

    from kds_iac.frontends.checkov_checks import kds_iac_cloudformation_checks, kds_iac_terraform_checks

    registries = {TERRAFORM: (resource_registry, kds_iac_terraform_checks), CLOUDFORMATION: (cfn_registry, kds_iac_cloudformation_checks)}
    assert all_rules()
    for module in all_rules():
        rule = module.rule
        assert rule.category in CheckCategories.__members__, f"{rule.id}: unknown checkov category"
        for framework, (registry, checks_module) in registries.items():
            types = bridge.resource_types_for(rule, framework)
            assert types, f"{rule.id} has no {framework} resource types"
            check = registry.get_check_by_id(rule.checkov_id)
            assert check is not None and check in checks_module.CHECKS
            assert check.name == rule.title
            assert sorted(check.supported_resources) == sorted(types)
            assert list(check.categories) == [CheckCategories[rule.category]]
            assert check.guideline == rule.help_uri
            assert check.severity.name == rule.severity.name
    from checkov.terraform.checks.provider.registry import provider_registry

    for spec in bridge.provider_check_specs():  # findings on provider blocks: provider checks
        check = provider_registry.get_check_by_id(spec.rule.checkov_id)
        assert check is not None and check in kds_iac_terraform_checks.PROVIDER_CHECKS
        assert sorted(check.supported_provider) == sorted(spec.resource_types)
        assert check.name == spec.rule.title and check.severity.name == spec.rule.severity.name
    terraform_types = {t for m in all_rules() for t in bridge.resource_types_for(m.rule, TERRAFORM)}
    cloudformation_types = {t for m in all_rules() for t in bridge.resource_types_for(m.rule, CLOUDFORMATION)}
    assert all(t.startswith("aws_") for t in terraform_types)
    assert all(t.startswith(("AWS::", "Custom::")) for t in cloudformation_types)
    assert "Custom::CDKBucketDeployment" in cloudformation_types  # checkov checks custom resources too (KDS024)


def test_checks_package_imports_without_checkov():
    code = (
        "import sys, kds_iac.frontends.checkov_checks as c, kds_iac.frontends.checkov_bridge;"
        "print(c.directory()); print(sorted(m for m in sys.modules if m.split('.')[0] == 'checkov'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    directory, loaded = done.stdout.splitlines()
    assert Path(directory) == PACKAGE_CHECKS
    assert loaded == "[]"
    assert (PACKAGE_CHECKS / "__init__.py").exists() and (CLONE_CHECKS / "__init__.py").exists()


def test_kds_iac_checkov_dir_prints_the_package_folder():
    try:
        import kds_iac.cli  # noqa: F401
    except ImportError:
        pytest.skip("kds_iac.cli has not landed yet")
    done = subprocess.run([tool("kds-iac"), "checkov-dir"], capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve() == PACKAGE_CHECKS.resolve()


@pytest.mark.parametrize("run_name", ALL_RUNS)
def test_checkov_loaded_and_ran_our_checks_without_errors(run_name, request):
    run: CheckovRun = request.getfixturevalue(run_name)
    assert run.problems() == []
    ran = {r.check_id for r in run.records}
    framework = {v: k for k, v in EXAMPLE_RUNS.items()}.get(run_name)
    if framework is not None:  # every rule with examples in this format judged them
        assert ran == {m.rule.checkov_id for m in all_rules() if framework in m.examples}
    else:  # the fixtures hold streams and keys only: the checks on those judged them
        assert {"CKV_KDS_1", "CKV_KDS_2", "CKV_KDS_3"} <= ran <= set(OUR_IDS)
    assert run.keys("FAILED"), "no failure reported: our checks did not run"


# --------------------------------------------------------------------------- parity


@pytest.mark.parametrize("framework", [TERRAFORM, CLOUDFORMATION])
def test_checkov_reports_exactly_what_the_engine_reports(framework, request):
    run: CheckovRun = request.getfixturevalue(EXAMPLE_RUNS[framework])
    view = engine_view(EXAMPLES / framework)
    unasked = {(c, str((EXAMPLES / framework / f).resolve()), a) for c, f, a in NOT_ASKED_BY_CHECKOV.get(framework, set())}
    assert unasked <= view.findings
    assert run.keys("FAILED") == view.findings - unasked
    skipped = run.keys("SKIPPED")
    assert view.suppressed <= skipped  # the same comments suppress in both
    assert skipped & (view.findings | view.suppressed) == view.suppressed


@pytest.mark.parametrize("framework", [TERRAFORM, CLOUDFORMATION])
def test_checkov_reports_exactly_the_examples_declared_in_the_rules(framework, request):
    run: CheckovRun = request.getfixturevalue(EXAMPLE_RUNS[framework])
    root = EXAMPLES / framework
    per_resource = {m.rule.checkov_id for m in all_rules() if not m.rule.scope_wide}
    reported = {
        (r.check_id, Path(r.file).relative_to(root.resolve()).parts[0], r.address)
        for r in run.records if r.result == "FAILED" and r.check_id in per_resource
    }
    declared = declared_failures(framework, [m for m in all_rules() if not m.rule.scope_wide])
    unrendered = NOT_RENDERED_BY_CHECKOV.get(framework, set())
    assert unrendered <= declared
    assert reported == declared - unrendered


# CloudFormation that kds-iac judges and checkov never asks our checks about, by file under
# examples/cloudformation: checkov reads each template alone, so a nested stack's resources
# are asked about only under their own logical ids, when the child template is scanned itself
# (never as Stack/LogicalId, with what the parent passes), and it does not expand Fn::ForEach
# (AWS::LanguageExtensions), so the streams a loop makes are never asked about.
NOT_ASKED_BY_CHECKOV = {
    CLOUDFORMATION: {
        ("CKV_KDS_1", "nested-stacks/stacks/events.yaml", "Events/DeadLetters"),
        ("CKV_KDS_1", "foreach-streams.yaml", "StreamClicks"),
        ("CKV_KDS_1", "foreach-streams.yaml", "StreamOrders"),
        ("CKV_KDS_1", "foreach-streams.yaml", "Tenant${Name}"),
    },
}

# Instances kds-iac judges that checkov never renders, so never asks our checks about: it
# drops blocks whose `count` is 0 with the defaults, and renders a module that an example
# calls only through that call (it does report a `for_each` over an empty map, and a module
# called with `count = 0` when no example calls the module; see the test below).
NOT_RENDERED_BY_CHECKOV = {
    CLOUDFORMATION: {(c, f.split("/")[0], a) for c, f, a in NOT_ASKED_BY_CHECKOV[CLOUDFORMATION]},
    TERRAFORM: {
        ("CKV_KDS_1", "gated-module", "aws_kinesis_stream.this"),
        ("CKV_KDS_1", "gated-module", "module.archive.aws_kinesis_stream.archive"),
        ("CKV_KDS_1", "gated-module", "module.legacy_archive.aws_kinesis_stream.archive"),
        ("CKV_KDS_4", "gated-module", "aws_iam_user_policy.consumer"),
        ("CKV_KDS_5", "gated-module", "aws_iam_user_policy.consumer"),
        ("CKV_KDS_10", "gated-module", "aws_iam_user.consumer"),
        ("CKV_KDS_11", "gated-module", "aws_iam_access_key.consumer"),
    },
}


def test_judged_instances_use_checkovs_addresses(tmp_path):
    """A module repository without an example: checkov renders the `for_each` stream and the
    module called with `count = 0` under the same addresses kds-iac gives them."""
    module = tmp_path / "gated-module"
    shutil.copytree(EXAMPLES / TERRAFORM / "gated-module", module, ignore=shutil.ignore_patterns("examples"))
    run = run_checkov(["-d", str(module)], CLONE_CHECKS)
    failed = {(r.check_id, r.address) for r in run.records if r.result == "FAILED" and r.check_id == "CKV_KDS_1"}
    assert failed == {
        ("CKV_KDS_1", "aws_kinesis_stream.this"),
        ("CKV_KDS_1", "module.archive.aws_kinesis_stream.archive"),
        ("CKV_KDS_1", "module.legacy_archive.aws_kinesis_stream.archive"),
    }


def declared_failures(framework: str, modules) -> set[tuple[str, str, str]]:
    return {
        (m.rule.checkov_id, unit, address)
        for m in modules if framework in m.examples
        for unit, addresses in m.examples[framework].bad.items()
        for address in addresses
    }


@pytest.mark.parametrize("framework", [TERRAFORM, CLOUDFORMATION])
def test_scope_wide_rules_report_the_examples_each_scanned_alone(framework, scope_wide_run):
    """CloudTrail coverage depends on what is scanned together: each example is its own scope,
    with the settings found from it (examples/.kds-iac.yaml declares an organization trail
    that each CloudTrail example's own settings file replaces)."""
    root = (EXAMPLES / framework).resolve()
    scope_ids = {m.rule.checkov_id for m in SCOPE_WIDE}
    reported = {
        (r.check_id, Path(r.file).relative_to(root).parts[0], r.address)
        for r in scope_wide_run.records
        if r.result == "FAILED" and r.check_id in scope_ids and Path(r.file).is_relative_to(root)
    }
    assert reported == declared_failures(framework, SCOPE_WIDE)
    expected_roots = {str((EXAMPLES / framework / unit).resolve()) for unit in scope_wide_units(framework)}
    assert expected_roots <= set(scope_wide_run.engine_runs())
    for unit in scope_wide_units(framework):
        view = engine_view(EXAMPLES / framework / unit)
        in_unit = {k for k in scope_wide_run.keys("FAILED") if k[0] in scope_ids and k[1].startswith(str((EXAMPLES / framework / unit).resolve()) + os.sep)}
        assert in_unit == {k for k in view.findings if k[0] in scope_ids}, unit


def test_fixtures_match_the_engine_and_the_expected_findings(fixtures_run):
    view = engine_view(FIXTURES)
    tf_json = str((FIXTURES / "terraform-json" / "main.tf.json").resolve())
    # checkov's terraform_json runner names a resource "resource.<name>", without its type
    json_failed = {r.key for r in fixtures_run.records if r.framework == "terraform_json" and r.result == "FAILED"}
    assert json_failed == {("CKV_KDS_1", tf_json, "resource.from_cdktf")}
    assert {k for k in view.findings if k[1] == tf_json} == {("CKV_KDS_1", tf_json, "aws_kinesis_stream.from_cdktf")}
    assert any(r.address == "resource.encrypted_from_cdktf" and r.result == "PASSED" for r in fixtures_run.records)
    view.findings = {k for k in view.findings if k[1] != tf_json}
    fixtures_run = CheckovRun(fixtures_run.args, 0, "", "", 0, [r for r in fixtures_run.records if r.file != tf_json])
    # checkov drops a CloudFormation resource whose Condition is false under parameter
    # defaults before any check runs; the engine reports it
    conditional = str((FIXTURES / "cloudformation" / "conditional.yaml").resolve())
    dropped_by_checkov = {("CKV_KDS_1", conditional, "ProdOnly")}
    assert dropped_by_checkov <= view.findings
    assert not [r for r in fixtures_run.records if r.file == conditional]
    assert fixtures_run.keys("FAILED") == view.findings - dropped_by_checkov
    tf_main = str((FIXTURES / "terraform" / "main.tf").resolve())
    module = str((FIXTURES / "terraform" / "modules" / "stream" / "main.tf").resolve())
    yaml_template = str((FIXTURES / "cloudformation" / "streams.yaml").resolve())
    json_template = str((FIXTURES / "cloudformation" / "more.template.json").resolve())
    expected = {
        ("CKV_KDS_1", tf_main, address)
        for address in (
            "aws_kinesis_stream.plain", "aws_kinesis_stream.counted[0]", "aws_kinesis_stream.counted[1]",
            'aws_kinesis_stream.each["a"]', 'aws_kinesis_stream.each["b"]',
        )
    } | {
        ("CKV_KDS_1", module, address)
        for address in (
            "module.events.aws_kinesis_stream.this",
            'module.many["x"].aws_kinesis_stream.this',
            'module.many["y"].aws_kinesis_stream.this',
            "module.wrapped.module.inner.aws_kinesis_stream.this",
            "module.shared.aws_kinesis_stream.this",  # envs/dev only, see the next test
        )
    } | {
        ("CKV_KDS_2", tf_main, "aws_kinesis_stream.managed"),
        ("CKV_KDS_3", tf_main, "aws_kms_key.stale"),
        ("CKV_KDS_1", yaml_template, "Plain"),
        ("CKV_KDS_1", yaml_template, "Bare"),
        ("CKV_KDS_2", yaml_template, "Managed"),
        ("CKV_KDS_3", yaml_template, "StaleKey"),
        ("CKV_KDS_1", json_template, "JsonPlain"),
    }
    assert fixtures_run.keys("FAILED") == expected
    # resources without findings are judged (PASSED), not dropped as UNKNOWN
    assert ("CKV_KDS_1", tf_main, "aws_kinesis_stream.good") in fixtures_run.keys("PASSED")
    assert ("CKV_KDS_1", json_template, "JsonGood") in fixtures_run.keys("PASSED")
    assert ("CKV_KDS_3", tf_main, "aws_kms_key.rotating") in fixtures_run.keys("PASSED")


def test_a_module_file_called_by_two_root_modules_is_judged_per_caller(fixtures_run):
    shared = [r for r in fixtures_run.records if r.check_id == "CKV_KDS_1" and r.address == "module.shared.aws_kinesis_stream.this"]
    by_caller = {r.caller: r.result for r in shared}
    assert by_caller == {"/terraform/envs/dev/main.tf": "FAILED", "/terraform/envs/prod/main.tf": "PASSED"}


def test_scope_from_resource_data_alone_gives_the_same_results(fixtures_run, fixtures_run_without_frames):
    def comparable(run):
        # without the runner's frame nothing says which root module called a shared module file
        return {
            (r.check_id, r.result, r.file, r.address)
            for r in run.records
            if not r.address.startswith("module.shared.") and r.framework != "terraform_json"
        }

    assert comparable(fixtures_run_without_frames) == comparable(fixtures_run)
    assert set(fixtures_run_without_frames.engine_runs()) == {str(FIXTURES.resolve())}


def test_file_mode_scans_the_files_directory(fixtures_run, file_mode_run):
    files = {str((FIXTURES / "cloudformation" / "streams.yaml").resolve()), str((FIXTURES / "terraform" / "main.tf").resolve())}
    from_directory = {(r.check_id, r.result, r.file, r.address) for r in fixtures_run.records if r.file in files}
    from_files = {(r.check_id, r.result, r.file, r.address) for r in file_mode_run.records}
    assert from_files == from_directory
    scopes = set(file_mode_run.engine_runs())
    assert scopes == {str((FIXTURES / "cloudformation").resolve()), str((FIXTURES / "terraform").resolve())}


# --------------------------------------------------------------------------- skips, details, caching


def test_checkov_skip_comments_are_reported_as_skipped(examples_terraform, examples_cloudformation, fixtures_run):
    comment = "Holds only synthetic load-test data"
    tf = {(r.address, r.result, r.comment) for r in examples_terraform.records if r.check_id == "CKV_KDS_1"}
    cfn = {(r.address, r.result, r.comment) for r in examples_cloudformation.records if r.check_id == "CKV_KDS_1"}
    assert ("aws_kinesis_stream.suppressed", "SKIPPED", comment) in tf
    assert ("Suppressed", "SKIPPED", comment) in cfn
    fixture_skips = {(r.check_id, Path(r.file).name, r.address, r.comment) for r in fixtures_run.records if r.result == "SKIPPED"}
    assert fixture_skips == {
        ("CKV_KDS_1", "main.tf", "aws_kinesis_stream.skipped", "Fixture data only"),
        ("CKV_KDS_1", "streams.yaml", "Skipped", "Fixture data only"),
    }
    # a skip names one check: the others still judge the resource
    assert any(r.check_id == "CKV_KDS_2" and r.address == "Skipped" and r.result == "PASSED" for r in fixtures_run.records)


def test_terraform_failures_carry_the_engine_message(examples_terraform):
    view = engine_view(EXAMPLES / TERRAFORM)
    failed = [r for r in examples_terraform.records if r.result == "FAILED"]
    assert failed
    for record in failed:
        assert set(record.details) == view.messages[record.key]


@pytest.mark.parametrize("run_name", ALL_RUNS)
def test_engine_runs_once_per_scope_and_process(run_name, request):
    run: CheckovRun = request.getfixturevalue(run_name)
    runs = run.engine_runs()
    # checkov runs its terraform, terraform_json and cloudformation runners in separate
    # processes; each runs the engine at most once per scope
    assert 1 <= len(runs) <= 3 * len(set(runs)), runs
    assert len(run.records) > len(runs)


# --------------------------------------------------------------------------- output formats


def test_every_output_format_names_our_checks(examples_terraform, examples_cloudformation):
    out = examples_terraform.outputs
    failed_ids = {r.check_id for r in examples_terraform.records if r.result == "FAILED"}
    # scanned as one scope, the examples are covered by the organization trail that
    # examples/.kds-iac.yaml declares (with data events): the coverage rules pass there
    assert failed_ids == set(OUR_IDS) - {"CKV_KDS_20", "CKV_KDS_22"}

    cli = out["cli"].read_text()
    for check_id in OUR_IDS:
        assert f"Check: {check_id}: " in cli
    assert "FAILED for resource: aws_kinesis_stream.plain" in cli
    assert "Details: Kinesis stream aws_kinesis_stream.plain" in cli

    sarif = json.loads(out["sarif"].read_text())
    assert {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]} >= failed_ids
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == failed_ids

    junit = ET.parse(out["junitxml"])  # testcase name: "[HIGH][CKV_KDS_1] <title>"
    failing_cases = [c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None]
    assert {re.search(r"\[(CKV_KDS_\d+)\]", name).group(1) for name in failing_cases} == failed_ids
    assert len(failing_cases) == len(examples_terraform.keys("FAILED"))

    assert {a["description"] for r in sarif["runs"][0]["results"] for a in r.get("attachments", [])}  # details

    gitlab = json.loads(out["gitlab_sast"].read_text())
    assert {i["value"] for v in gitlab["vulnerabilities"] for i in v["identifiers"]} == failed_ids

    github = out["github_failed_only"].read_text()
    assert all(f"| {i}" in github for i in failed_ids)

    cyclonedx = ET.parse(out["cyclonedx"])
    ids = {e.text for e in cyclonedx.iter() if e.tag.endswith("}id") and e.text and e.text.startswith("CKV_KDS_")}
    assert ids == failed_ids
    cyclonedx_json = json.loads(out["cyclonedx_json"].read_text())
    assert {v["id"] for v in cyclonedx_json.get("vulnerabilities", [])} == failed_ids

    # SPDX is a package SBOM: checkov puts no IaC findings in it; it must still be written whole
    spdx = out["spdx"].read_text()
    assert spdx.startswith("## Document Information") and "SPDXVersion: SPDX-2.3" in spdx

    json_ids = {r.check_id for r in parse_json_report(json.loads(out["json"].read_text()), REPO) if r.result == "FAILED"}
    assert json_ids == failed_ids

    with examples_cloudformation.outputs["csv"].open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Misconfigurations"]]  # it lists every resource
    cfn_failed = {r.check_id for r in examples_cloudformation.records if r.result == "FAILED"}
    assert cfn_failed and {row["Misconfigurations"] for row in rows} == cfn_failed
    assert {(row["Resource"].split(".", 1)[1], row["Misconfigurations"]) for row in rows} == {
        (r.address, r.check_id) for r in examples_cloudformation.records if r.result == "FAILED"
    }


# --------------------------------------------------------------------------- the bridge, without checkov


@pytest.mark.parametrize(
    "path,scanned,root",
    [
        ("proj/sub/t.yaml", "/sub/t.yaml", "proj"),
        ("./sub/t.yaml", "/sub/t.yaml", "."),
        ("/abs/proj/t.yaml", "/t.yaml", "/abs/proj"),
        ("proj/t.yaml", "/proj/t.yaml", ""),  # -f proj/t.yaml
        ("/abs/t.yaml", "/abs/t.yaml", ""),
        ("proj/other.yaml", "/t.yaml", None),
        ("proj/at.yaml", "/t.yaml", None),
    ],
)
def test_strip_scanned_suffix(path, scanned, root):
    assert bridge.strip_scanned_suffix(path, scanned) == root


@pytest.mark.parametrize(
    "checkov_address,engine_address",
    [
        ("aws.default", "provider.aws"),
        ("aws.west", "provider.aws.west"),
        ('module.m["k"].module.n.aws.inner', 'module.m["k"].module.n.provider.aws.inner'),
        ("aws_instance.a", "aws_instance.a"),  # resource addresses pass through: types have a "_"
        ("module.m.aws_instance.a", "module.m.aws_instance.a"),
        ("data.aws_iam_policy_document.d", "data.aws_iam_policy_document.d"),
    ],
)
def test_provider_addresses(checkov_address, engine_address):
    assert bridge.provider_address(checkov_address) == engine_address


def test_scope_from_cloudformation_conf(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conf = {"Type": "AWS::Kinesis::Stream", "Properties": {"__file__": "proj/cfn/t.yaml", "__startline__": 4}}
    located = bridge._cloudformation_scope_from_conf("/cfn/t.yaml", conf)
    assert (located.root, located.file) == (str(tmp_path / "proj"), str(tmp_path / "proj/cfn/t.yaml"))
    located = bridge._cloudformation_scope_from_conf("/proj/cfn/t.yaml", conf)  # -f proj/cfn/t.yaml
    assert located.root == str(tmp_path / "proj" / "cfn")
    assert bridge._cloudformation_scope_from_conf("/t.yaml", {"Type": "AWS::Kinesis::Stream", "Properties": {}}) is None


def test_scope_from_terraform_graph():
    import rustworkx

    graph = rustworkx.PyDiGraph()
    graph.add_nodes_from(
        [
            (0, {"block_type_": "resource", "__address__": "aws_kinesis_stream.a", "file_path_": "/r/x/main.tf"}),
            (1, {"block_type_": "resource", "__address__": "module.m.aws_kinesis_stream.this", "file_path_": "/r/mod/main.tf"}),
            (2, {"block_type_": "variable", "__address__": "var.x", "file_path_": "/r/x/vars.tf"}),
        ]
    )
    located = bridge._terraform_scope_from_graph("/x/main.tf", {"__address__": "aws_kinesis_stream.a"}, graph)
    assert (located.root, located.file) == ("/r", "/r/x/main.tf")
    located = bridge._terraform_scope_from_graph("/mod/main.tf", {"__address__": "module.m.aws_kinesis_stream.this"}, graph)
    assert located.root == "/r"
    assert bridge._terraform_scope_from_graph("/x/main.tf", {"__address__": "aws_kinesis_stream.b"}, graph) is None


def test_engine_runs_once_per_scope_and_matches_by_file_and_address(tmp_path, monkeypatch):
    from kds_iac.model import Location, Resource
    from kds_iac.rules.base import Finding

    rule = all_rules()[0].rule
    main = tmp_path / "main.tf"
    main.write_text("")
    broken = tmp_path / "broken.tf"
    broken.write_text("")
    stream = Resource("aws_kinesis_stream", "aws_kinesis_stream.a", {}, Location(str(main), 1, 4), TERRAFORM, unit=str(tmp_path))
    calls = []

    def fake_scan(paths, **_):
        calls.append(list(paths))
        from kds_iac.model import Diagnostic

        return engine.ScanResult(
            findings=[Finding(rule, stream, "stream a is bad")],
            diagnostics=[Diagnostic("error", str(broken), 3, "syntax error")],
            files=[str(main), str(broken)],
        )

    monkeypatch.setattr(engine, "scan", fake_scan)
    bridge.clear_cache()
    try:
        located = bridge.Located(str(tmp_path), str(main))
        verdicts = [bridge.evaluate(rule, located, "aws_kinesis_stream.a") for _ in range(50)]
        assert {v.status for v in verdicts} == {bridge.FAILED}
        assert verdicts[0].messages == ("stream a is bad",)
        assert bridge.evaluate(rule, located, "aws_kinesis_stream.b").status == bridge.PASSED
        assert bridge.evaluate(rule, bridge.Located(str(tmp_path), str(broken)), "aws_kinesis_stream.c").status == bridge.UNKNOWN
        unread = bridge.Located(str(tmp_path), str(tmp_path / "unread.tf"))
        assert bridge.evaluate(rule, unread, "aws_kinesis_stream.d").status == bridge.UNKNOWN
        assert calls == [[str(tmp_path)]]
    finally:
        bridge.clear_cache()


def test_findings_of_a_shared_module_file_are_told_apart_by_root_module(tmp_path):
    from kds_iac.model import Location, Resource
    from kds_iac.rules.base import Finding

    rule = all_rules()[0].rule
    dev, prod, module = tmp_path / "dev", tmp_path / "prod", tmp_path / "mod"
    for d in (dev, prod, module):
        d.mkdir()
    file = str(module / "main.tf")

    def finding(unit):
        resource = Resource("aws_kinesis_stream", "module.s.aws_kinesis_stream.this", {}, Location(file, 1, 2), TERRAFORM, unit=unit)
        return Finding(rule, resource, f"from {unit}")

    from_dev = finding(str(dev))
    assert bridge._same_root_module([from_dev], str(dev), file) == [from_dev]
    assert bridge._same_root_module([from_dev], str(prod), file) == []
    no_unit = finding("")
    assert bridge._same_root_module([no_unit], str(prod), file) == [no_unit]
    own_dir = finding(str(module))
    assert bridge._same_root_module([own_dir], str(prod), file) == [own_dir]


# --------------------------------------------------------------------------- Serverless Framework


@pytest.fixture(scope="module")
def examples_serverless() -> CheckovRun:
    """checkov's serverless framework over the Serverless examples, from a clone."""
    return run_checkov(["-d", "examples/serverless", "--framework", "serverless"], CLONE_CHECKS)


def test_serverless_services_report_exactly_the_engines_findings(examples_serverless):
    """Resources of a service (fragments included) under checkov's CloudFormation names; what the
    framework generates (its role's statements and managed policies, a function's environment)
    on the functions that use it, since checkov asks external checks about functions only."""
    run = examples_serverless
    assert run.problems() == []
    base = REPO / "examples" / "serverless"

    def service(unit: str) -> str:
        return os.path.realpath(base / unit / "serverless.yml")

    assert run.keys("FAILED") == {
        ("CKV_KDS_1", service("service-bad"), "AWS::Kinesis::Stream.OrdersStream"),  # in resources/streams.yml
        ("CKV_KDS_1", service("service-bad"), "AWS::Kinesis::Stream.AuditStream"),
        ("CKV_KDS_4", service("service-bad"), "consumer"),  # provider.iamRoleStatements[0]
        ("CKV_KDS_5", service("service-bad"), "consumer"),
        ("CKV_KDS_4", service("iam-statements"), "producer"),  # provider.iam.role.statements[1]
        ("CKV_KDS_5", service("iam-statements"), "producer"),
        ("CKV_KDS_6", service("iam-statements"), "producer"),
        ("CKV_KDS_7", service("iam-statements"), "producer"),
        ("CKV_KDS_8", service("iam-statements"), "producer"),  # provider.iam.role.managedPolicies
        ("CKV_KDS_12", service("creds-hardcoded"), "producer"),  # functions.producer
        ("CKV_KDS_14", service("reader-custom-role"), "AWS::IAM::Role.ConsumerRole"),
        ("CKV_KDS_17", service("failure-destinations"), "AWS::SQS::Queue.PlainFailures"),
        ("CKV_KDS_2", service("stream-keys"), "AWS::Kinesis::Stream.ManagedKeyStream"),
        ("CKV_KDS_3", service("stream-keys"), "AWS::KMS::Key.RotationOffKey"),
        ("CKV_KDS_19", service("stream-keys"), "AWS::KMS::Key.DisabledKey"),
        ("CKV_KDS_18", service("consumer-tables"), "AWS::DynamoDB::Table.Projections"),
        # shared-streams lists three fragments under resources; checkov keeps the Resources of the
        # last one only (archive.yml), so it never asks about PublicClicks (KDS009) and
        # PartnerOrders (KDS015) in policies.yml, which kds-iac reports
        ("CKV_KDS_16", service("shared-streams"), "AWS::KinesisFirehose::DeliveryStream.ClicksArchive"),
    }
    asked = {r.address for r in run.records if r.file == service("shared-streams")}
    assert asked.isdisjoint({"AWS::Kinesis::ResourcePolicy.PublicClicks", "AWS::Kinesis::ResourcePolicy.PartnerOrders"})
    # the function checks ran on the good functions too
    passed = run.keys("PASSED")
    assert {
        ("CKV_KDS_12", service("creds-hardcoded"), "reporter"),
        ("CKV_KDS_4", service("service-good"), "producer"),
        ("CKV_KDS_4", service("service-good"), "consumer"),
        ("CKV_KDS_14", service("reader-custom-role"), "reader"),
    } <= passed


# --------------------------------------------------------------------------- skip ids: CKV_KDS and KDS


SKIP_TF = """\
resource "aws_kinesis_stream" "checkov_id" {
  #checkov:skip=CKV_KDS_1:synthetic data
  name        = "a"
  shard_count = 1
}

resource "aws_kinesis_stream" "kds_id" {
  #checkov:skip=KDS001:synthetic data
  name        = "b"
  shard_count = 1
}
"""
SKIP_CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  CheckovId:
    Type: AWS::Kinesis::Stream
    Metadata:
      checkov:
        skip:
          - id: CKV_KDS_1
            comment: synthetic data
    Properties:
      ShardCount: 1
  KdsId:
    Type: AWS::Kinesis::Stream
    Metadata:
      checkov:
        skip:
          - id: KDS001
            comment: synthetic data
    Properties:
      ShardCount: 1
"""


def test_a_skip_with_the_kds_id_silences_kds_iac_but_not_checkov(tmp_path):
    """One suppression serves both tools only with checkov's id (README, "Use it through
    checkov"): checkov does not know ``KDS001``, while kds-iac accepts either id."""
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(SKIP_TF)
    (tmp_path / "cfn.yaml").write_text(SKIP_CFN)
    run = run_checkov(["-d", str(tmp_path)], PACKAGE_CHECKS, cwd=tmp_path)
    by_result = {
        (r.address, r.result) for r in run.records if r.check_id == "CKV_KDS_1"
    }
    assert by_result == {
        ("aws_kinesis_stream.checkov_id", "SKIPPED"),
        ("aws_kinesis_stream.kds_id", "FAILED"),
        ("CheckovId", "SKIPPED"),
        ("KdsId", "FAILED"),
    }
    done = subprocess.run(
        [tool("kds-iac"), "scan", ".", "--format", "json", "--no-progress", "--skip-rule", "KDS020", "--skip-rule", "KDS022"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    report = json.loads(done.stdout)
    assert {(f["rule_id"], f["resource"], f["suppressed"]) for f in report["findings"]} == {
        ("KDS001", "aws_kinesis_stream.checkov_id", True),
        ("KDS001", "aws_kinesis_stream.kds_id", True),
        ("KDS001", "CheckovId", True),
        ("KDS001", "KdsId", True),
    }
    assert done.returncode == 0
