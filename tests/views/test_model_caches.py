"""What views cache belongs to one model and follows it: ``Model.of_type``'s index by type,
the views memoized per model, a principal's grants. A process that scans again (the language
server) must see each model as it is, never what an earlier model or an earlier state left."""

from __future__ import annotations

from kds_iac.model import CLOUDFORMATION, TERRAFORM, Location, Model, Ref, Resource
from kds_iac.views.iam import iam
from kds_iac.views.kinesis import streams


def _resource(type_: str, address: str, source_format: str = CLOUDFORMATION, **attributes) -> Resource:
    return Resource(type_, address, attributes, Location("t.yaml", 1, 2), source_format)


def _addresses(resources) -> list[str]:
    return [r.address for r in resources]


def test_of_type_keeps_the_model_order_for_one_type_and_for_several():
    model = Model([
        _resource("AWS::Kinesis::Stream", "A"),
        _resource("AWS::IAM::Role", "R"),
        _resource("aws_kinesis_stream", "aws_kinesis_stream.b", TERRAFORM),
        _resource("AWS::Kinesis::Stream", "C"),
    ])
    assert _addresses(model.of_type("AWS::Kinesis::Stream")) == ["A", "C"]
    assert _addresses(model.of_type("AWS::Kinesis::Stream", "aws_kinesis_stream")) == ["A", "aws_kinesis_stream.b", "C"]
    assert _addresses(model.of_type("aws_kinesis_stream", "AWS::Kinesis::Stream")) == ["A", "aws_kinesis_stream.b", "C"]
    assert _addresses(model.of_type("AWS::Kinesis::Stream", "AWS::Kinesis::Stream")) == ["A", "C"]
    assert _addresses(model.of_type("AWS::SQS::Queue")) == []


def test_of_type_sees_resources_added_after_it_was_asked():
    model = Model([_resource("AWS::Kinesis::Stream", "A")])
    assert _addresses(model.of_type("AWS::Kinesis::Stream")) == ["A"]
    model.resources.append(_resource("AWS::Kinesis::Stream", "B"))
    assert _addresses(model.of_type("AWS::Kinesis::Stream")) == ["A", "B"]
    other = Model([_resource("AWS::Kinesis::Stream", "C"), _resource("AWS::IAM::Role", "R")])
    model.extend(other)
    assert _addresses(model.of_type("AWS::Kinesis::Stream")) == ["A", "B", "C"]
    assert _addresses(model.of_type("AWS::IAM::Role")) == ["R"]


def test_of_type_follows_a_resources_list_put_in_place_of_the_old_one():
    model = Model([_resource("AWS::Kinesis::Stream", "A")])
    assert _addresses(model.of_type("AWS::Kinesis::Stream")) == ["A"]
    model.resources = [_resource("AWS::Kinesis::Stream", "B")]
    assert _addresses(model.of_type("AWS::Kinesis::Stream")) == ["B"]


def test_of_type_on_a_merged_model_answers_for_the_merged_resources():
    first = Model([_resource("AWS::Kinesis::Stream", "A")])
    second = Model([_resource("AWS::Kinesis::Stream", "B")])
    assert _addresses(first.of_type("AWS::Kinesis::Stream")) == ["A"]
    merged = Model.merge([first, second], ["."])
    assert _addresses(merged.of_type("AWS::Kinesis::Stream")) == ["A", "B"]
    assert _addresses(first.of_type("AWS::Kinesis::Stream")) == ["A"]


def _scan_model(encryption: str) -> Model:
    stream = _resource("AWS::Kinesis::Stream", "Events", StreamEncryption={"EncryptionType": encryption, "KeyId": "alias/aws/kinesis"})
    role = _resource("AWS::IAM::Role", "Reader")
    policy = _resource(
        "AWS::IAM::Policy",
        "ReaderPolicy",
        PolicyName="read",
        Roles=[Ref(role)],
        PolicyDocument={"Statement": [{"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": "*"}]},
    )
    return Model([stream, role, policy])


def test_views_of_two_models_in_one_process_are_their_own():
    """As in the language server: each scan's model is judged as it is, whatever was asked before."""
    encrypted, plain = _scan_model("KMS"), _scan_model("NONE")
    assert [(s.address, s.encrypted) for s in streams(encrypted)] == [("Events", True)]
    assert [(s.address, s.encrypted) for s in streams(plain)] == [("Events", False)]
    assert [(s.address, s.encrypted) for s in streams(encrypted)] == [("Events", True)]


def test_a_principals_grants_are_those_of_its_own_model():
    first, second = _scan_model("KMS"), _scan_model("KMS")
    second.resources[2].attributes["PolicyDocument"] = {
        "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": "*"}]
    }
    grants = {
        name: [(g.statement.actions, g.document.holder.address) for g in iam(model).principal(model.resources[1]).grants]
        for name, model in (("first", first), ("second", second))
    }
    assert grants == {
        "first": [(("kinesis:GetRecords",), "ReaderPolicy")],
        "second": [(("kinesis:PutRecord",), "ReaderPolicy")],
    }
    again = iam(first).principal(first.resources[1]).grants
    assert [(g.statement.actions, g.document.holder.address) for g in again] == [(("kinesis:GetRecords",), "ReaderPolicy")]
