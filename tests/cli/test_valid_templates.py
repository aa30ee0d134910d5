"""A valid template is never "broken": `kds-iac scan` exits 0 or 1 on it, never 2.

Runs the real executable on the Quick Start-style example, whose switched-off branches
would fail to evaluate with the defaults, and on a template whose unguarded intrinsic
fails with a parameter default (an info note, not an input error).
"""

from __future__ import annotations

import json
import subprocess

from tests.conftest import REPO, declare_organization_trail, tool


def scan(path: str, cwd) -> tuple[int, dict]:
    done = subprocess.run(
        [tool("kds-iac"), "scan", path, "--format", "json", "--no-progress"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard only
    )
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout)


def test_quick_start_style_template_is_not_an_input_error():
    code, report = scan("examples/cloudformation/quickstart-style-vpc.yaml", REPO)
    assert code in (0, 1)
    assert report["diagnostics"] == []


def test_a_failure_under_parameter_defaults_is_a_note(tmp_path):
    declare_organization_trail(tmp_path)
    (tmp_path / "stream.yaml").write_text(
        "Parameters:\n"
        "  Owner:\n"
        "    Type: String\n"
        '    Default: ""\n'
        "Resources:\n"
        "  Events:\n"
        "    Type: AWS::Kinesis::Stream\n"
        "    Properties:\n"
        "      StreamEncryption: {EncryptionType: KMS, KeyId: alias/streams}\n"
        "      Tags:\n"
        "        - Key: owner\n"
        '          Value: !Select [1, !Split ["=", !Ref Owner]]\n'
    )
    code, report = scan("stream.yaml", tmp_path)
    assert code in (0, 1)
    assert [(d["level"], d["file"], d["line"]) for d in report["diagnostics"]] == [("info", "stream.yaml", 12)]
