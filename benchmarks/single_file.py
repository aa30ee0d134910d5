"""The on-save case: one ~300-line file (Terraform, CloudFormation or a Serverless Framework
``serverless.yml``), timed as whole processes, and the language server.

What an editor pays after each save, three ways:

- ``kds-iac scan FILE`` as a fresh process (interpreter start-up, imports, load, rules,
  report): the median over ``--repeat`` runs;
- ``checkov -f FILE --external-checks-dir <our checks> --check 'CKV_KDS_*' --skip-download``,
  the same file through checkov (nearly all of it is checkov's start-up);
- the language server's re-validation, in process (``kds_iac.lsp.Validator``): a save that
  changed the file (the module is loaded again), and a sibling or unchanged file (cache hit).

Prints a table (or ``--format json``) and never asserts: figures depend on the machine.

    python benchmarks/single_file.py                      # all three formats, 15 runs, checkov 3 runs
    python benchmarks/single_file.py --formats terraform --repeat 30 --checkov-repeat 5
    python benchmarks/single_file.py --skip-checkov --format json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
CHECKS_DIR = REPO / "kds_iac" / "frontends" / "checkov_checks"
TARGET_LINES = 300


# --------------------------------------------------------------------------- the files


def terraform_file(lines: int = TARGET_LINES) -> str:
    """A module file of about ``lines`` lines: variables, keys, streams, a role and its policy."""
    parts = [
        'variable "encryption_type" {\n  type    = string\n  default = "NONE"\n}\n',
        'variable "kms_key_id" {\n  type    = string\n  default = null\n}\n',
        'locals {\n  prefix = "bench"\n}\n',
    ]
    i = 0
    while sum(p.count("\n") for p in parts) < lines - 40:
        parts.append(
            f'''resource "aws_kms_key" "key_{i}" {{
  description         = "stream key {i}"
  enable_key_rotation = {"true" if i % 2 else "false"}
}}

resource "aws_kinesis_stream" "plain_{i}" {{
  name        = "${{local.prefix}}-plain-{i}"
  shard_count = 1
}}

resource "aws_kinesis_stream" "managed_{i}" {{
  name            = "${{local.prefix}}-managed-{i}"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = "alias/aws/kinesis"
}}

resource "aws_kinesis_stream" "cmk_{i}" {{
  name            = "${{local.prefix}}-cmk-{i}"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.key_{i}.arn
}}

resource "aws_kinesis_stream" "input_{i}" {{
  name            = "${{local.prefix}}-input-{i}"
  shard_count     = 1
  encryption_type = var.encryption_type
  kms_key_id      = var.kms_key_id
}}
'''
        )
        i += 1
    parts.append(
        '''resource "aws_iam_role" "producer" {
  name = "producer"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy" "producer" {
  role = aws_iam_role.producer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["kinesis:PutRecord", "kinesis:PutRecords"]
      Resource = aws_kinesis_stream.cmk_0.arn
    }]
  })
}
'''
    )
    return "\n".join(parts)


def cloudformation_file(lines: int = TARGET_LINES) -> str:
    """A YAML template of about ``lines`` lines with short-form intrinsics."""
    head = '''AWSTemplateFormatVersion: "2010-09-09"
Description: single-file benchmark
Parameters:
  KmsKeyArn:
    Type: String
    Default: ""
Conditions:
  HasKey: !Not [!Equals [!Ref KmsKeyArn, ""]]
Resources:
'''
    body = []
    i = 0
    while (head + "".join(body)).count("\n") < lines - 30:
        body.append(
            f'''  Key{i}:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: {"true" if i % 2 else "false"}
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: !Sub arn:aws:iam::${{AWS::AccountId}}:root
            Action: kms:*
            Resource: "*"
  Plain{i}:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  Managed{i}:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      StreamEncryption:
        EncryptionType: KMS
        KeyId: alias/aws/kinesis
  Cmk{i}:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      StreamEncryption:
        EncryptionType: KMS
        KeyId: !GetAtt Key{i}.Arn
  Optional{i}:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
      StreamEncryption: !If [HasKey, {{EncryptionType: KMS, KeyId: !Ref KmsKeyArn}}, !Ref "AWS::NoValue"]
'''
        )
        i += 1
    return head + "".join(body)


def serverless_file(lines: int = TARGET_LINES) -> str:
    """A ``serverless.yml`` of about ``lines`` lines: the framework's role with statements,
    consumers with Kinesis stream events, and streams and keys under ``resources``."""
    head = """service: bench
frameworkVersion: "3"
provider:
  name: aws
  runtime: python3.12
  stage: ${opt:stage, 'dev'}
  environment:
    PREFIX: ${self:service}-${self:provider.stage}
  iam:
    role:
      statements:
        - Effect: Allow
          Action: kinesis:*
          Resource: "*"
custom:
  encryption: ${opt:encryption, 'NONE'}
functions:
"""
    functions, resources = [], []
    i = 0
    while (head + "".join(functions) + "".join(resources)).count("\n") < lines - 20:
        functions.append(
            f"""  consumer{i}:
    handler: handler.consume
    environment:
      STREAM: ${{self:provider.environment.PREFIX}}-cmk-{i}
    events:
      - stream:
          type: kinesis
          arn: !GetAtt Cmk{i}.Arn
"""
        )
        resources.append(
            f"""    Key{i}:
      Type: AWS::KMS::Key
      Properties:
        EnableKeyRotation: {"true" if i % 2 else "false"}
    Plain{i}:
      Type: AWS::Kinesis::Stream
      Properties:
        ShardCount: 1
    Cmk{i}:
      Type: AWS::Kinesis::Stream
      Properties:
        ShardCount: 1
        StreamEncryption:
          EncryptionType: KMS
          KeyId: !GetAtt Key{i}.Arn
    Input{i}:
      Type: AWS::Kinesis::Stream
      Properties:
        ShardCount: 1
        StreamEncryption:
          EncryptionType: ${{self:custom.encryption}}
          KeyId: alias/aws/kinesis
"""
        )
        i += 1
    return head + "".join(functions) + "resources:\n  Resources:\n" + "".join(resources)


# --------------------------------------------------------------------------- timing


# Installed packages come with compiled bytecode; a source checkout gets it on the first run,
# unless PYTHONDONTWRITEBYTECODE forbids it, which would time compiling, not running.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def time_process(command: list[str], cwd: Path, repeat: int, warmup: bool = True) -> list[float]:
    if warmup:
        subprocess.run(command, cwd=cwd, capture_output=True, env=ENV)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV)
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{command[0]} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return times


def time_language_server(file: Path, repeat: int) -> dict[str, float]:
    """Median seconds of the server's re-validation: after a change, and of an unchanged sibling."""
    sys.path.insert(0, str(REPO))
    from kds_iac.lsp.validate import Validator

    validator = Validator()
    validator.validate(str(file))  # first open: imports and the first load
    changed, unchanged = [], []
    text = file.read_text(encoding="utf-8")
    for i in range(repeat):
        file.write_text(text + f"\n# edit {i}\n", encoding="utf-8")
        started = time.perf_counter()
        validator.validate(str(file))
        changed.append(time.perf_counter() - started)
        started = time.perf_counter()
        validator.validate(str(file))
        unchanged.append(time.perf_counter() - started)
    file.write_text(text, encoding="utf-8")
    return {"changed": statistics.median(changed), "unchanged": statistics.median(unchanged)}


def _interpreter_of(script: str) -> str:
    """The Python a console script runs with (its #! line), else this one."""
    try:
        with open(script, encoding="utf-8") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return sys.executable
    return first[2:].strip().split()[0] if first.startswith("#!") else sys.executable


def tool(name: str, given: Optional[str]) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", default="terraform,cloudformation,serverless")
    parser.add_argument("--lines", type=int, default=TARGET_LINES)
    parser.add_argument("--repeat", type=int, default=15, help="kds-iac runs per file (default 15)")
    parser.add_argument("--checkov-repeat", type=int, default=3, help="checkov runs per file (default 3)")
    parser.add_argument("--lsp-repeat", type=int, default=20, help="language-server re-validations (default 20)")
    parser.add_argument("--skip-checkov", action="store_true")
    parser.add_argument("--skip-lsp", action="store_true")
    parser.add_argument("--kds-iac", help="kds-iac executable (default: beside this Python)")
    parser.add_argument("--checkov", help="checkov executable (default: beside this Python)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)

    rows = []
    kds_iac = tool("kds-iac", args.kds_iac)
    python = _interpreter_of(kds_iac)
    startup = statistics.median(time_process([python, "-c", "pass"], REPO, args.repeat))
    print(f"python start-up ({python}): {startup:.3f}s", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="kds-single-") as work:
        for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
            folder = Path(work) / fmt
            folder.mkdir()
            if fmt == "terraform":
                file = folder / "main.tf"
                file.write_text(terraform_file(args.lines), encoding="utf-8")
            elif fmt == "serverless":
                file = folder / "serverless.yml"
                file.write_text(serverless_file(args.lines), encoding="utf-8")
            else:
                file = folder / "template.yaml"
                file.write_text(cloudformation_file(args.lines), encoding="utf-8")
            lines = file.read_text(encoding="utf-8").count("\n")
            print(f"{fmt}: {file.name}, {lines} lines", file=sys.stderr)
            kds = time_process([kds_iac, "scan", "--no-progress", "-q", file.name], folder, args.repeat)
            row = {
                "format": fmt, "lines": lines, "python_startup_s": startup,
                "kds_iac_median_s": statistics.median(kds), "kds_iac_min_s": min(kds),
            }
            if not args.skip_checkov:
                command = [
                    tool("checkov", args.checkov), "-f", file.name, "--external-checks-dir", str(CHECKS_DIR),
                    "--check", "CKV_KDS_*", "--skip-download", "--quiet", "--compact",
                ]
                ckv = time_process(command, folder, args.checkov_repeat)
                row["checkov_median_s"] = statistics.median(ckv)
                row["ratio_checkov_over_kds_iac"] = row["checkov_median_s"] / row["kds_iac_median_s"]
            if not args.skip_lsp:
                lsp = time_language_server(file, args.lsp_repeat)
                row["lsp_revalidate_changed_ms"] = lsp["changed"] * 1000
                row["lsp_revalidate_unchanged_ms"] = lsp["unchanged"] * 1000
            rows.append(row)

    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    print(f"python start-up alone: {rows[0]['python_startup_s']:.3f}s" if rows else "no rows")
    print(f"{'format':<15} {'lines':>5} {'kds-iac':>9} {'checkov':>9} {'ratio':>7} {'lsp edit':>9} {'lsp same':>9}")
    for row in rows:
        checkov = f"{row['checkov_median_s']:.3f}s" if "checkov_median_s" in row else "-"
        ratio = f"{row['ratio_checkov_over_kds_iac']:.1f}x" if "ratio_checkov_over_kds_iac" in row else "-"
        edit = f"{row['lsp_revalidate_changed_ms']:.1f}ms" if "lsp_revalidate_changed_ms" in row else "-"
        same = f"{row['lsp_revalidate_unchanged_ms']:.2f}ms" if "lsp_revalidate_unchanged_ms" in row else "-"
        print(f"{row['format']:<15} {row['lines']:>5} {row['kds_iac_median_s']:>8.3f}s {checkov:>9} {ratio:>7} {edit:>9} {same:>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
