"""Nested stacks: children loaded with what the parent passes, and the bounds on following them."""

from __future__ import annotations

import os
from pathlib import Path

from kds_iac import engine
from kds_iac.config import resolve_config
from kds_iac.loaders import load
from kds_iac.loaders.cloudformation import load_template
from kds_iac.model import Conditional, Diagnostic, FromInputs, Ref, Unknown
from tests.conftest import EXAMPLES

CHILD = """\
Parameters:
  KeyArn:
    Type: String
  Names:
    Type: CommaDelimitedList
    Default: a,b
Conditions:
  HasKey: !Not [!Equals [!Ref KeyArn, ""]]
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: !Select [1, !Ref Names]
      StreamEncryption: !If
        - HasKey
        - {EncryptionType: KMS, KeyId: !Ref KeyArn}
        - !Ref AWS::NoValue
Outputs:
  StreamArn:
    Value: !GetAtt Stream.Arn
"""

PARENT = """\
Conditions:
  Create: !Equals [!Ref AWS::Region, eu-west-1]
Resources:
  Key:
    Type: AWS::KMS::Key
  Events:
    Type: AWS::CloudFormation::Stack
    Condition: Create
    Properties:
      TemplateURL: ./stacks/child.yaml
      Parameters:
        KeyArn: !GetAtt Key.Arn
        Names: "x, y"
  Reader:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: reader
      EventSourceArn: !GetAtt Events.Outputs.StreamArn
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def by_address(model):
    return {r.address: r for r in model.resources}


def test_the_parent_key_reaches_the_child_stream_and_the_child_output_reaches_the_parent(tmp_path):
    write(tmp_path, {"parent.yaml": PARENT, "stacks/child.yaml": CHILD})
    model = load_template(str(tmp_path / "parent.yaml"))
    assert model.diagnostics == []
    resources = by_address(model)
    assert set(resources) == {"Key", "Events", "Reader", "Events/Stream"}
    stream = resources["Events/Stream"]
    assert stream.location.file == os.path.normpath(str(tmp_path / "stacks" / "child.yaml"))
    assert (stream.location.start_line, stream.location.end_line) == (10, 17)
    # the passed ARN is an edge to the parent's key, so "is a key given" is decided: true
    encryption = stream.attributes["StreamEncryption"]
    assert isinstance(encryption, Conditional) and encryption.condition.default is True
    key_id = encryption.when_true["KeyId"]
    assert isinstance(key_id, Ref) and key_id.target is resources["Key"] and key_id.attribute == "Arn"
    # a text passed to a list parameter is split at its commas
    assert stream.attributes["Name"] == "y"
    source = resources["Reader"].attributes["EventSourceArn"]
    assert isinstance(source, Ref) and source.target is stream and source.attribute == "Arn"
    # the stack's Condition creates what the child holds
    assert stream.condition is not None and stream.condition.name == "Create"
    assert [o.address for o in model.outputs] == ["Events/Outputs.StreamArn"]


def test_a_child_without_the_parent_keeps_its_own_parameters(tmp_path):
    write(tmp_path, {"stacks/child.yaml": CHILD})
    model = load_template(str(tmp_path / "stacks" / "child.yaml"))
    stream = by_address(model)["Stream"]
    assert stream.condition is None
    assert stream.attributes["StreamEncryption"].condition.default is None  # KeyArn has no default
    name = stream.attributes["Name"]
    assert isinstance(name, FromInputs) and name.value == "b" and [i.name for i in name.inputs] == ["Names"]


REMOTE = """\
Parameters:
  Bucket:
    Type: String
    Default: templates
Resources:
  FromHttps:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://example-bucket.s3.amazonaws.com/child.yaml
  FromS3:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: s3://example-bucket/child.yaml
  FromSub:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Sub https://${Bucket}.s3.amazonaws.com/child.yaml
  Reader:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: reader
      EventSourceArn: !GetAtt FromS3.Outputs.StreamArn
"""


def test_remote_children_are_noted_and_never_fetched(tmp_path):
    write(tmp_path, {"parent.yaml": REMOTE})
    path = str(tmp_path / "parent.yaml")
    model = load_template(path)
    # FromS3 is loaded first, when Reader asks for its output
    assert sorted(model.diagnostics, key=lambda d: d.line) == [
        Diagnostic("info", path, 9, "nested stack FromHttps: template https://example-bucket.s3.amazonaws.com/child.yaml is not fetched; its resources are not checked"),
        Diagnostic("info", path, 13, "nested stack FromS3: template s3://example-bucket/child.yaml is not fetched; its resources are not checked"),
        Diagnostic("info", path, 17, "nested stack FromSub: its template location is known only at deployment; its resources are not checked"),
    ]
    source = by_address(model)["Reader"].attributes["EventSourceArn"]
    assert isinstance(source, Ref) and source.target is by_address(model)["FromS3"] and source.attribute == "Outputs.StreamArn"


def test_a_stack_that_includes_itself_is_an_error_at_the_stack_resource(tmp_path):
    write(tmp_path, {
        "self.yaml": "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n  Again:\n    Type: AWS::CloudFormation::Stack\n"
                     "    Properties:\n      TemplateURL: self.yaml\n",
        "a.yaml": "Resources:\n  ToB:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: b/b.yaml\n",
        "b/b.yaml": "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n  ToA:\n    Type: AWS::CloudFormation::Stack\n"
                    "    Properties:\n      TemplateURL: ../a.yaml\n",
    })
    alone = str(tmp_path / "self.yaml")
    model = load_template(alone)
    assert model.diagnostics == [
        Diagnostic("error", alone, 4, "nested stack Again includes this template: the stacks would include each other without end")
    ]
    assert set(by_address(model)) == {"Topic", "Again"}
    a = str(tmp_path / "a.yaml")
    model = load_template(a)
    b = os.path.normpath(str(tmp_path / "b" / "b.yaml"))
    assert model.diagnostics == [
        Diagnostic("error", b, 4, f"nested stack ToA includes {os.path.normpath(str(tmp_path / 'a.yaml'))}, which includes this template: "
                                  "the stacks would include each other without end")
    ]
    assert set(by_address(model)) == {"ToB", "ToB/Queue", "ToB/ToA"}


def test_a_child_outside_the_scanned_tree_is_refused(tmp_path):
    write(tmp_path, {
        "secret/child.yaml": "Resources:\n  Hidden:\n    Type: AWS::Kinesis::Stream\n",
        "app/parent.yaml": "Resources:\n  Up:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                           "      TemplateURL: ../secret/child.yaml\n  Absolute:\n    Type: AWS::CloudFormation::Stack\n"
                           f"    Properties:\n      TemplateURL: {tmp_path / 'secret' / 'child.yaml'}\n",
    })
    parent = str(tmp_path / "app" / "parent.yaml")
    model = load_template(parent)  # alone: its own directory is the tree
    assert model.diagnostics == [
        Diagnostic("info", parent, 5, "nested stack Up: template ../secret/child.yaml is outside the scanned tree; its resources are not checked"),
        Diagnostic("info", parent, 9, f"nested stack Absolute: template {tmp_path / 'secret' / 'child.yaml'} is outside the scanned tree; "
                                      "its resources are not checked"),
    ]
    assert set(by_address(model)) == {"Up", "Absolute"}
    # scanning the directory above takes the child in, through both paths
    whole = load([str(tmp_path)])
    assert {r.address for r in whole.resources} == {"Up", "Absolute", "Up/Hidden", "Absolute/Hidden", "Hidden"}
    assert whole.diagnostics == []


def test_a_symlink_out_of_the_tree_is_refused(tmp_path):
    write(tmp_path, {
        "outside/child.yaml": "Resources:\n  Hidden:\n    Type: AWS::Kinesis::Stream\n",
        "app/parent.yaml": "Resources:\n  Linked:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                           "      TemplateURL: link.yaml\n",
    })
    (tmp_path / "app" / "link.yaml").symlink_to(tmp_path / "outside" / "child.yaml")
    parent = str(tmp_path / "app" / "parent.yaml")
    model = load([parent])
    assert [(d.level, d.file, d.line, d.message) for d in model.diagnostics] == [
        ("info", parent, 5, "nested stack Linked: template link.yaml is outside the scanned tree; its resources are not checked")
    ]


def test_a_missing_child_is_an_error_and_nesting_is_bounded(tmp_path):
    files = {"missing.yaml": "Resources:\n  Gone:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: nope.yaml\n"}
    for level in range(13):
        files[f"deep/t{level}.yaml"] = (
            f"Resources:\n  S{level}:\n    Type: AWS::SNS::Topic\n  Next:\n    Type: AWS::CloudFormation::Stack\n"
            f"    Properties:\n      TemplateURL: t{level + 1}.yaml\n"
        )
    files["modules.yaml"] = (
        "Resources:\n  Key:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
        "      TemplateURL: ./node_modules/@cfn-modules/kms-key/module.yml\n"
    )
    write(tmp_path, files)
    missing = str(tmp_path / "missing.yaml")
    assert load_template(missing).diagnostics == [
        Diagnostic("error", missing, 5, "nested stack Gone: template nope.yaml does not exist")
    ]
    modules = str(tmp_path / "modules.yaml")
    assert load_template(modules).diagnostics == [  # npm has not installed it here
        Diagnostic("info", modules, 5, "nested stack Key: template ./node_modules/@cfn-modules/kms-key/module.yml is not installed; "
                                       "its resources are not checked")
    ]
    model = load_template(str(tmp_path / "deep" / "t0.yaml"))
    eleventh = os.path.normpath(str(tmp_path / "deep" / "t10.yaml"))
    assert model.diagnostics == [Diagnostic("info", eleventh, 4, "nested stack Next: stacks nested more than 10 deep; not checked")]
    assert "Next/Next/Next/Next/Next/Next/Next/Next/Next/Next/S10" in by_address(model)
    assert not any(a.endswith("/S11") for a in by_address(model))


def test_sam_application_with_a_local_location_is_followed(tmp_path):
    write(tmp_path, {
        "template.yaml": "Transform: AWS::Serverless-2016-10-31\nResources:\n  Key:\n    Type: AWS::KMS::Key\n"
                         "  App:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: apps/child.yaml\n"
                         "      Parameters:\n        KeyArn: !GetAtt Key.Arn\n",
        "apps/child.yaml": CHILD,
    })
    model = load_template(str(tmp_path / "template.yaml"))
    assert model.diagnostics == []
    resources = by_address(model)
    key_id = resources["App/Stream"].attributes["StreamEncryption"].when_true["KeyId"]
    assert key_id.target is resources["Key"]


def test_child_problems_and_findings_are_reported_once_when_the_child_is_also_scanned_alone(tmp_path):
    write(tmp_path, {
        "parent.yaml": "Resources:\n  Events:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                       "      TemplateURL: child.yaml\n",
        "child.yaml": "Resources:\n  Plain:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      Name: !Ref Nothing\n",
    })
    result = engine.scan([str(tmp_path)], config=resolve_config(None, [str(EXAMPLES)]))
    child = os.path.join(str(tmp_path), "child.yaml")
    assert result.diagnostics == [
        Diagnostic("error", child, 5, "Ref to Nothing, which is neither a parameter nor a resource of this template")
    ]
    kds001 = [(f.address, f.instances, f.location.file, f.primary_line) for f in result.findings if f.rule.id == "KDS001"]
    assert kds001 == [("Events/Plain", ("Plain",), child, 2)]


def test_the_nested_example_merges_child_findings_and_names_both_streams_of_the_parent_key():
    cwd = os.getcwd()
    os.chdir(EXAMPLES.parent)
    try:
        path = "examples/cloudformation/nested-stacks"
        result = engine.scan([path], config=resolve_config(None, [path]))
    finally:
        os.chdir(cwd)
    found = {(f.rule.id, f.address, f.instances, f.location.file, f.primary_line) for f in result.findings}
    assert found == {
        ("KDS001", "Archive", (), f"{path}/stacks/archive.yaml", 19),
        ("KDS001", "DeadLetters", ("Events/DeadLetters",), f"{path}/stacks/events.yaml", 20),
        ("KDS003", "StreamKey", (), f"{path}/parent.yaml", 13),
        ("KDS014", "ConsumerRole", (), f"{path}/parent.yaml", 55),
    }
    messages = {f.rule.id: f.message for f in result.findings}
    assert messages["KDS003"].startswith("KMS key StreamKey encrypts Kinesis stream Archive/Archive, Events/Stream ")
    assert "reads stream Events/Stream" in messages["KDS014"]
    assert [(d.level, d.line, d.message) for d in result.diagnostics] == [
        ("info", 42, "nested stack Dashboards: template https://s3.amazonaws.com/example-templates/dashboards.yaml "
                     "is not fetched; its resources are not checked")
    ]


def test_a_child_finding_that_names_its_neighbours_is_reported_once(tmp_path):
    """Through the parent the key's message names Events/Stream, alone it names Stream: the
    same finding at the same place (``one_per_place`` drops the nested-stack prefix)."""
    write(tmp_path, {
        "parent.yaml": "Resources:\n  Events:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                       "      TemplateURL: child.yaml\n",
        "child.yaml": "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: false\n"
                      "  Stream:\n    Type: AWS::Kinesis::Stream\n    Properties:\n"
                      "      StreamEncryption: {EncryptionType: KMS, KeyId: !GetAtt Key.Arn}\n",
    })
    result = engine.scan([str(tmp_path)], config=resolve_config(None, [str(EXAMPLES)]))
    kds003 = [(f.address, f.instances, f.message) for f in result.findings if f.rule.id == "KDS003"]
    assert kds003 == [
        ("Events/Key", ("Key",), "KMS key Events/Key encrypts Kinesis stream Events/Stream but automatic key rotation is disabled")
    ]


def test_the_number_of_nested_stacks_under_one_template_is_bounded(tmp_path):
    """Each level includes the next one ten times: without a bound, 10**10 loads."""
    stacks = "".join(f"  S{i}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: NEXT\n" for i in range(10))
    files = {f"t{level}.yaml": "Resources:\n" + stacks.replace("NEXT", f"t{level + 1}.yaml") for level in range(10)}
    files["t10.yaml"] = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    write(tmp_path, files)
    model = load_template(str(tmp_path / "t0.yaml"))
    children = {r.address.rpartition("/")[0] for r in model.resources if "/" in r.address}
    assert len(children) == 100  # each loaded child holds resources; every other stack is refused
    assert "S0/S0/S0/S0/S0/S0/S0/S0/S0/S0" in children  # depth first: the first ten loads
    assert {(d.level, d.message) for d in model.diagnostics} == {
        ("info", f"nested stack S{i}: more than 100 nested stacks under {tmp_path / 't0.yaml'}; not checked") for i in range(1, 10)
    }  # every template loaded goes down its S0 first, so an S0 is never the one refused


def test_a_cdk_nested_stack_is_read_from_its_asset_path(tmp_path):
    """cdk synth builds TemplateURL from the asset bucket; the metadata names the local file."""
    write(tmp_path, {
        "cdk.out/App.template.json": """{
  "Resources": {
    "Key": {"Type": "AWS::KMS::Key"},
    "EventsNestedStack": {
      "Type": "AWS::CloudFormation::Stack",
      "Properties": {
        "TemplateURL": {"Fn::Join": ["", ["https://s3.", {"Ref": "AWS::Region"}, ".amazonaws.com/cdk-assets/abc.json"]]},
        "Parameters": {"referencetoAppKeyArn": {"Fn::GetAtt": ["Key", "Arn"]}}
      },
      "Metadata": {"aws:asset:path": "AppEvents1234.nested.template.json", "aws:asset:property": "TemplateURL"}
    }
  }
}
""",
        "cdk.out/AppEvents1234.nested.template.json": """{
  "Parameters": {"referencetoAppKeyArn": {"Type": "String"}},
  "Resources": {
    "Stream": {"Type": "AWS::Kinesis::Stream",
               "Properties": {"StreamEncryption": {"EncryptionType": "KMS", "KeyId": {"Ref": "referencetoAppKeyArn"}}}}
  }
}
""",
    })
    model = load_template(str(tmp_path / "cdk.out" / "App.template.json"))
    assert model.diagnostics == []
    resources = by_address(model)
    key_id = resources["EventsNestedStack/Stream"].attributes["StreamEncryption"]["KeyId"]
    assert isinstance(key_id, Ref) and key_id.target is resources["Key"]
