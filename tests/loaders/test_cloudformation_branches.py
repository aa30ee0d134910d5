"""CloudFormation branches: what a deployment evaluates, and what is (not) an input error.

Valid templates give no error: an intrinsic that fails with parameter defaults is unknown
(an info note at most), and the ``Fn::If`` branch the defaults switch off is not evaluated
for errors. What no deployment could accept stays an error with its line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kds_iac.loaders.cloudformation import load_template
from kds_iac.model import FromInputs, Regions, Unknown
from tests.conftest import EXAMPLES


def load_text(tmp_path: Path, text: str):
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return load_template(str(path))


def diagnostics(model) -> list[tuple[str, int, str]]:
    return [(d.level, d.line, d.message) for d in model.diagnostics]


def by_address(model) -> dict:
    return {r.address: r for r in model.resources}


@pytest.mark.parametrize(
    "name",
    [
        "quickstart-style-vpc.yaml",
        "guarded-split-select.yaml",
        "cdk-region-condition.template.json",
        "branch-by-branch.yaml",
        "kms-without-key.yaml",
    ],
)
def test_valid_examples_give_no_diagnostics(name):
    model = load_template(str(EXAMPLES / "cloudformation" / name))
    assert model.diagnostics == []


def test_switched_off_branch_keeps_its_value_but_gives_no_error():
    model = load_template(str(EXAMPLES / "cloudformation" / "quickstart-style-vpc.yaml"))
    subnet = by_address(model)["PrivateSubnet1A"]
    tag2 = subnet.attributes["Tags"][2]
    assert tag2.condition.name == "PrivateSubnetTag2Condition" and tag2.condition.default is False
    assert tag2.when_false is None
    assert isinstance(tag2.when_true["Value"], FromInputs)
    assert tag2.when_true["Value"].value == Unknown("Fn::Select index out of range")
    assert [i.name for i in tag2.when_true["Value"].inputs] == ["PrivateSubnetATag2"]
    # The branch the defaults take is evaluated: "Network=Private" splits into the tag.
    tag1 = subnet.attributes["Tags"][1]
    assert tag1.when_true["Key"] == FromInputs("Network", tag1.when_true["Key"].inputs)
    assert tag1.when_true["Value"] == FromInputs("Private", tag1.when_true["Value"].inputs)


HEADER = """\
Parameters:
  Tag:
    Type: String
    Default: ""
  Env:
    Type: String
    Default: ""
Mappings:
  Sizes:
    dev: {Shards: 1}
Conditions:
  HasTag: !Not [!Equals [!Ref Tag, ""]]
  InIreland: !Equals [!Ref "AWS::Region", eu-west-1]
Resources:
  S:
    Type: AWS::Kinesis::Stream
    Properties:
"""  # the first property is on line 18


@pytest.mark.parametrize(
    "body,expected",
    [
        # Failures that parameter defaults cause: info notes, never errors.
        (
            '      Name: !Select [1, !Split ["=", !Ref Tag]]\n',
            [("info", 18, 'Fn::Select index 1 is out of range for a list of 1 with the defaults of Tag (default: ""); the value is not known')],
        ),
        (
            "      ShardCount: !FindInMap [Sizes, !Ref Env, Shards]\n",
            [("info", 18, 'Fn::FindInMap: no entry /Shards in mapping Sizes with the defaults of Env (default: ""); the value is not known')],
        ),
        # Guarded by a condition the defaults switch off: not evaluated, nothing to say.
        ('      Name: !If [HasTag, !Select [1, !Split ["=", !Ref Tag]], plain]\n', []),
        ("      ShardCount: !If [HasTag, !FindInMap [Sizes, !Ref Env, Shards], 1]\n", []),
        ("      Name: !If [HasTag, !Select [5, [a, b]], plain]\n", []),
        # A branch that some deployments take (condition on the region): an info note.
        (
            "      Name: !If [InIreland, !Select [5, [a, b]], plain]\n",
            [("info", 18, "Fn::Select index 5 is out of range for a list of 2 where a deployment may take this branch; the value is not known")],
        ),
        # Nothing a deployer chooses could make these work: errors.
        ("      Name: !Select [5, [a, b]]\n", [("error", 18, "Fn::Select index 5 is out of range for a list of 2")]),
        ("      ShardCount: !FindInMap [Sizes, prod, Shards]\n", [("error", 18, "Fn::FindInMap: no entry prod/Shards in mapping Sizes")]),
        # Wrong number or kind of arguments: an error in any branch.
        ("      Name: !Select [1]\n", [("error", 18, "Fn::Select needs [index, list]")]),
        ("      Name: !If [HasTag, !Select [1], plain]\n", [("error", 18, "Fn::Select needs [index, list]")]),
        ('      Name: !If [HasTag, !Split "a,b", plain]\n', [("error", 18, "Fn::Split needs a list of 2 arguments")]),
        ("      Name: !If [HasTag, x]\n", [("error", 18, "Fn::If needs [condition name, value if true, value if false]")]),
    ],
)
def test_evaluation_failures(tmp_path, body, expected):
    assert diagnostics(load_text(tmp_path, HEADER + body)) == expected


def test_a_resource_the_defaults_do_not_create_has_only_notes(tmp_path):
    text = HEADER.replace("    Type: AWS::Kinesis::Stream\n", "    Type: AWS::Kinesis::Stream\n    Condition: HasTag\n")
    model = load_text(tmp_path, text + "      Name: !Select [5, [a, b]]\n")
    assert diagnostics(model) == [
        ("info", 19, "Fn::Select index 5 is out of range for a list of 2 where a deployment may take this branch; the value is not known")
    ]


def test_fn_transform_is_a_note_and_the_rest_is_checked(tmp_path):
    text = """\
Resources:
  Fn::Transform:
    Name: AWS::Include
    Parameters: {Location: s3://bucket/streams.yaml}
  Included:
    Type: AWS::Kinesis::Stream
    Properties:
      Fn::Transform:
        Name: AWS::Include
        Parameters: {Location: s3://bucket/props.yaml}
  Mixed:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://bucket/more.yaml}}
      Tags:
        - Key: a
          Value: !Transform {Name: Custom::Macro}
"""
    model = load_text(tmp_path, text)
    assert diagnostics(model) == [
        ("info", 2, "Fn::Transform AWS::Include is not applied; what it would add is not checked"),
        ("info", 7, "Fn::Transform AWS::Include is not applied; what it would add is not checked"),
        ("info", 15, "Fn::Transform AWS::Include is not applied; what it would add is not checked"),
        ("info", 18, "Fn::Transform Custom::Macro is not applied; what it would add is not checked"),
    ]
    resources = by_address(model)
    assert list(resources) == ["Included", "Mixed"]
    assert resources["Included"].attributes == {}
    assert list(resources["Mixed"].attributes) == ["ShardCount", "Tags"]


CONDITIONS = """\
Parameters:
  Env: {Type: String, Default: dev}
  Owner: {Type: String}
  Names: {Type: CommaDelimitedList}
  Unused: {Type: String, Default: x}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  HasOwner: !Not [!Equals [!Ref Owner, ""]]
  ProdWithOwner: !And [!Condition IsProd, !Condition HasOwner]
  ProdOrOwned: !Or [!Condition ProdWithOwner, !Equals [!Select [0, !Ref Names], audit]]
  InChina: !Or [!Equals [!Ref "AWS::Region", cn-north-1], !Equals [cn-northwest-1, !Ref "AWS::Region"]]
  OutsideChina: !Not [!Condition InChina]
  EuropeNotIreland: !And [!Or [!Equals [!Ref "AWS::Region", eu-west-1], !Equals [!Ref "AWS::Region", eu-central-1]], !Not [!Equals [!Ref "AWS::Region", eu-west-1]]]
  ChinaOrProd: !Or [!Condition InChina, !Condition IsProd]
  ChinaAndOwner: !And [!Condition InChina, !Condition HasOwner]
Resources:
"""


def _conditional_resources(names):
    return "".join(f"  {name}:\n    Type: AWS::SNS::Topic\n    Condition: {name}\n" for name in names)


def test_conditional_resources_carry_the_condition_and_the_parameters_it_reads(tmp_path):
    names = ["IsProd", "ProdWithOwner", "ProdOrOwned", "InChina", "OutsideChina", "EuropeNotIreland", "ChinaOrProd", "ChinaAndOwner"]
    model = load_text(tmp_path, CONDITIONS + _conditional_resources(names))
    assert model.diagnostics == []
    got = {
        r.address: (r.condition.name, r.condition.default, tuple(i.name for i in r.condition.inputs), r.condition.regions)
        for r in model.resources
    }
    assert got == {
        "IsProd": ("IsProd", False, ("Env",), None),
        "ProdWithOwner": ("ProdWithOwner", False, ("Env", "Owner"), None),
        "ProdOrOwned": ("ProdOrOwned", None, ("Env", "Owner", "Names"), None),
        "InChina": ("InChina", None, (), Regions(frozenset({"cn-north-1", "cn-northwest-1"}))),
        "OutsideChina": ("OutsideChina", None, (), Regions(frozenset({"cn-north-1", "cn-northwest-1"}), True)),
        "EuropeNotIreland": ("EuropeNotIreland", None, (), Regions(frozenset({"eu-central-1"}))),
        # IsProd is false with the defaults, but the region may still make it true.
        "ChinaOrProd": ("ChinaOrProd", None, ("Env",), None),
        "ChinaAndOwner": ("ChinaAndOwner", None, ("Owner",), None),
    }
    owner = model.resources[1].condition.inputs[1]
    assert (owner.kind, owner.has_default) == ("parameter", False)


def test_a_condition_on_a_split_of_a_parameter_without_default_names_it(tmp_path):
    text = """\
Parameters:
  Subnets: {Type: String}
Conditions:
  FirstIsPublic: !Equals [!Select [0, !Split [",", !Ref Subnets]], public]
Resources:
  T:
    Type: AWS::SNS::Topic
    Condition: FirstIsPublic
"""
    (topic,) = load_text(tmp_path, text).resources
    assert (topic.condition.default, [i.name for i in topic.condition.inputs]) == (None, ["Subnets"])


def test_a_sam_resource_and_what_it_generates_carry_its_condition(tmp_path):
    text = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  DeployConsumer: {Type: String, Default: "false"}
Conditions:
  WithConsumer: !Equals [!Ref DeployConsumer, "true"]
Resources:
  Consumer:
    Type: AWS::Serverless::Function
    Condition: WithConsumer
    Properties:
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(event, context): pass"
"""
    model = load_text(tmp_path, text)
    assert [d for d in model.diagnostics if d.level == "error"] == []
    function = by_address(model)["Consumer"]
    seen = {(r.address, r.condition.name, r.condition.default, tuple(i.name for i in r.condition.inputs)) for r in model.resources}
    assert seen == {
        ("Consumer", "WithConsumer", False, ("DeployConsumer",)),
        ("ConsumerRole", "WithConsumer", False, ("DeployConsumer",)),
    }
    origin = function.origin
    assert (origin.address, origin.condition.name, [i.name for i in origin.condition.inputs]) == (
        "Consumer",
        "WithConsumer",
        ["DeployConsumer"],
    )
