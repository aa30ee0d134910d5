"""CI adoption through the real ``kds-iac`` command: baselines, and SARIF as code scanning reads it.

A baseline and SARIF's ``partialFingerprints`` share one identity (rule, file, resource), so
both are tested against the same edits: lines moving above a resource keep a finding's
identity; a new resource or a new file does not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from kds_iac.rules import all_rules
from tests.conftest import EXAMPLES, REPO, declare_organization_trail, tool

SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-2.1.0-schema.json").read_text(encoding="utf-8"))
NEW_STREAM = '\nresource "aws_kinesis_stream" "brand_new" {\n  name        = "new"\n  shard_count = 1\n}\n'


def kds(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([tool("kds-iac"), *args, "--no-progress"], cwd=cwd, capture_output=True, text=True, timeout=300)


def findings(done: subprocess.CompletedProcess) -> set[tuple[str, str, str]]:
    return {
        (f["rule_id"], os.path.normpath(f["file"]), f["resource"]) for f in json.loads(done.stdout)["findings"] if not f["suppressed"]
    }


@pytest.fixture()
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "terraform" / "unencrypted-streams", root / "infra")
    shutil.copytree(EXAMPLES / "terraform" / "aws-managed-key", root / "shared")
    (root / "stacks").mkdir()
    shutil.copy(EXAMPLES / "cloudformation" / "unencrypted-streams.yaml", root / "stacks" / "streams.yaml")
    declare_organization_trail(root)
    return root


def test_create_baseline_then_fail_only_on_new_findings(repo):
    created = kds("scan", ".", "--create-baseline", cwd=repo)
    assert created.returncode == 0, created.stderr
    assert "baseline written to .kds-iac.baseline" in created.stderr
    recorded = json.loads((repo / ".kds-iac.baseline").read_text())
    assert recorded["version"] == 1 and recorded["tool"] == "kds-iac"
    assert {"file": "stacks/streams.yaml", "resource": "Plain", "rule_ids": ["KDS001"]} in recorded["findings"]
    assert {"file": "infra/main.tf", "resource": "aws_kinesis_stream.plain", "rule_ids": ["KDS001"]} in recorded["findings"]
    everything = findings(kds("scan", ".", "-q", "--format", "json", cwd=repo))
    assert {(rule, file, resource) for e in recorded["findings"] for rule in e["rule_ids"] for file, resource in [(e["file"], e["resource"])]} == everything

    # nothing new: clean, and the summary says why
    clean = kds("scan", ".", "--baseline", ".kds-iac.baseline", cwd=repo)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout == "" and f"{len(everything)} in the baseline" in clean.stderr

    # lines move above a known resource, and a new resource appears: only the new one fails,
    # also from another working directory
    main = repo / "infra" / "main.tf"
    main.write_text("# moved down\n\n\n" + main.read_text() + NEW_STREAM)
    later = kds("scan", "..", "-q", "--format", "json", "--baseline", "../.kds-iac.baseline", cwd=repo / "infra")
    assert later.returncode == 1
    assert findings(later) == {("KDS001", "../infra/main.tf", "aws_kinesis_stream.brand_new")}

    # a fixed finding leaves a stale entry, which the run points out
    template = repo / "stacks" / "streams.yaml"
    template.write_text(template.read_text().replace("  Plain:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n", ""))
    stale = kds("scan", "stacks", "--baseline", ".kds-iac.baseline", cwd=repo)
    assert stale.returncode == 0 and "1 entry no longer found" in stale.stderr


def test_baseline_accepts_checkov_ids_and_refuses_broken_files(repo):
    (repo / "b.json").write_text(json.dumps({
        "version": 1, "tool": "kds-iac",
        "findings": [{"file": "stacks/streams.yaml", "resource": r, "rule_ids": ["CKV_KDS_1"]} for r in ("Plain", "OptionalKey", "SwitchedOff")],
    }))
    done = kds("scan", "stacks", "-q", "--format", "json", "--baseline", "b.json", cwd=repo)
    assert done.returncode == 0 and findings(done) == set()

    for text, says in (("{", "invalid JSON"), ('{"version": 2, "findings": []}', "version 2"), ('{"findings": [{"file": 1}]}', "version")):
        (repo / "bad.json").write_text(text)
        broken = kds("scan", "stacks", "--baseline", "bad.json", cwd=repo)
        assert broken.returncode == 2 and says in broken.stderr and "Traceback" not in broken.stderr
    missing = kds("scan", "stacks", "--baseline", "nope.json", cwd=repo)
    assert missing.returncode == 2 and "--create-baseline" in missing.stderr


def test_create_baseline_into_a_named_file_with_an_input_error(repo):
    (repo / "stacks" / "broken.yaml").write_text('AWSTemplateFormatVersion: "2010-09-09"\nResources: [\n')
    (repo / "ci").write_text("a file where the baseline's folder would go\n")
    done = kds("scan", "stacks", "--create-baseline", "--baseline", "ci/kds.baseline", cwd=repo)
    assert done.returncode == 2 and "cannot write the baseline" in done.stderr and "Traceback" not in done.stderr
    (repo / "ci").unlink()  # a missing folder is created, as docs/integrations.md's example needs
    done = kds("scan", "stacks", "--create-baseline", "--baseline", "ci/kds.baseline", cwd=repo)
    assert done.returncode == 2, done.stderr  # written, but an unreadable input still fails the run
    assert "baseline written to ci/kds.baseline" in done.stderr
    entries = json.loads((repo / "ci" / "kds.baseline").read_text())["findings"]
    assert {e["file"] for e in entries} == {"../stacks/streams.yaml"}


def test_sarif_from_the_cli_is_what_code_scanning_accepts(repo):
    first = kds("scan", ".", "-q", "--format", "sarif", "--output", "a.sarif", cwd=repo)
    assert first.returncode == 1
    log = json.loads((repo / "a.sarif").read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {m.rule.id for m in all_rules()}
    for module in all_rules():
        descriptor = rules[module.rule.id]
        assert descriptor["help"]["markdown"].strip() and descriptor["helpUri"] == module.rule.help_uri
        assert float(descriptor["properties"]["security-severity"]) >= 0
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["KDS001"] == "error" and levels["KDS002"] == "note"

    def prints(sarif: dict) -> dict[tuple[str, str], str]:
        return {
            (r["ruleId"], r["properties"]["resource"]): r["partialFingerprints"]["kdsIacResource/v1"]
            for r in sarif["runs"][0]["results"]
        }

    main = repo / "infra" / "main.tf"
    main.write_text("# a comment that moves every line\n\n" + main.read_text() + NEW_STREAM)
    kds("scan", ".", "-q", "--format", "sarif", "--output", "b.sarif", cwd=repo)
    before, after = prints(log), prints(json.loads((repo / "b.sarif").read_text()))
    assert set(after) - set(before) == {("KDS001", "aws_kinesis_stream.brand_new")}
    assert all(after[key] == value for key, value in before.items())  # same identity after the move
    assert len(set(after.values())) == len(after)
