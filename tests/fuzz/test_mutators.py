"""Cases are reproducible from (seed, loader, iteration) alone, and mutators change their input."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.fuzz import mutators
from tests.fuzz.corpus import LOADERS, REPO, seeds_for
from tests.fuzz.harness import build_case


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def test_a_case_is_rebuilt_byte_for_byte_from_its_seed_and_iteration(tmp_path):
    seeds = seeds_for("terraform")
    first = build_case("terraform", seeds, 7, 11, tmp_path / "a")
    again = build_case("terraform", seeds, 7, 11, tmp_path / "b")
    other = build_case("terraform", seeds, 7, 12, tmp_path / "c")
    assert first.notes == again.notes
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")
    assert _snapshot(tmp_path / "a") != _snapshot(tmp_path / "c")


@pytest.mark.parametrize("loader", [name for name in LOADERS if LOADERS[name].seeds()])
def test_every_loader_with_seeds_gets_cases_that_differ_from_the_seed(loader, tmp_path):
    seeds = seeds_for(loader)
    changed = 0
    for iteration in range(20):
        case = build_case(loader, seeds, 1, iteration, tmp_path / "case")
        note = case.notes[0]
        seed = REPO / note["seed"]
        copy = tmp_path / "case" / note["file"]
        if seed.is_dir():  # the copy sits at in/<seed name>/<path in the seed>
            original = seed / copy.relative_to(tmp_path / "case" / "in" / seed.name)
        else:
            original = seed
        changed += copy.read_bytes() != original.read_bytes()
    assert changed >= 15


def test_json_structure_keeps_json_and_yaml_structure_keeps_the_short_tags():
    template = (REPO / "examples/cloudformation/iam-sam.yaml").read_bytes()
    plan = (REPO / "tests/fixtures/terraform_plan/kms_stream.json").read_bytes()
    written = 0
    for i in range(20):
        try:
            out = mutators.json_structure(plan, random.Random(i), b"")
        except mutators.Skip:  # e.g. a node aliased into its own subtree: a cycle JSON cannot write
            continue
        json.loads(out)  # still JSON (NaN/Infinity included, as Python writes them)
        written += 1
    assert written >= 15
    outs = [mutators.yaml_structure(template, random.Random(i), b"") for i in range(20)]
    assert any(b"!Ref" in out or b"!GetAtt" in out or b"!Sub" in out for out in outs)
    assert len(set(outs)) > 10
