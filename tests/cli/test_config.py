"""Settings: discovery, precedence, validation and the errors that name the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kds_iac.config import Config, ConfigError, find_config, load_config, resolve_config
from kds_iac.rules.base import Severity

PYPROJECT = """\
[project]
name = "infra"

[tool.kds-iac]
skip-rules = ["KDS002", "ckv_kds_3"]
fail-on = "high"
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository root: the search never climbs above it."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra" / "streams").mkdir(parents=True)
    return tmp_path


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_reads_pyproject_tool_table(repo):
    path = write(repo / "pyproject.toml", PYPROJECT)
    config = load_config(path)
    assert config.skip_rules == {"KDS002", "CKV_KDS_3"}
    assert config.fail_on is Severity.HIGH and config.fail_on_set
    assert config.source == path and config.warnings == []


def test_reads_yaml(repo):
    path = write(repo / ".kds-iac.yaml", "skip-rules: [KDS001]\nfail-on: Medium\n")
    config = load_config(path)
    assert (config.skip_rules, config.fail_on) == ({"KDS001"}, Severity.MEDIUM)


def test_empty_yaml_is_defaults(repo):
    config = load_config(write(repo / ".kds-iac.yaml", "# nothing yet\n"))
    assert (config.skip_rules, config.fail_on, config.fail_on_set) == (set(), Severity.INFO, False)


def test_found_from_the_scanned_directory_upward(repo):
    path = write(repo / "pyproject.toml", PYPROJECT)
    scanned = repo / "infra" / "streams"
    assert find_config([str(scanned)], cwd="/") == path
    assert find_config([str(scanned / "main.tf")], cwd="/") == path  # a file: its directory


def test_nearest_file_wins_and_yaml_before_pyproject(repo):
    write(repo / "pyproject.toml", PYPROJECT)
    nearer = write(repo / "infra" / "pyproject.toml", PYPROJECT)
    assert find_config([str(repo / "infra" / "streams")], cwd="/") == nearer
    dedicated = write(repo / "infra" / ".kds-iac.yaml", "fail-on: low\n")
    assert find_config([str(repo / "infra" / "streams")], cwd="/") == dedicated


def test_pyproject_without_table_is_passed_over(repo):
    write(repo / "infra" / "pyproject.toml", '[project]\nname = "x"\n[tool.black]\nline-length = 100\n')
    root = write(repo / "pyproject.toml", PYPROJECT)
    assert find_config([str(repo / "infra" / "streams")], cwd="/") == root


def test_search_stops_at_the_git_root(tmp_path):
    write(tmp_path / "pyproject.toml", PYPROJECT)  # above the repository: not ours
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "infra").mkdir()
    assert find_config([str(tmp_path / "repo" / "infra")], cwd=str(tmp_path / "repo")) is None


def test_falls_back_to_the_current_directory(repo, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / ".git").mkdir()
    path = write(repo / ".kds-iac.yml", "fail-on: critical\n")
    assert find_config([str(elsewhere)], cwd=str(repo / "infra")) == path
    assert find_config([], cwd=str(repo)) == path


def test_explicit_file_wins(repo):
    write(repo / "pyproject.toml", PYPROJECT)
    explicit = write(repo / "ci" / "strict.yaml", "fail-on: info\n")
    config = resolve_config(explicit, [str(repo / "infra")], cwd=str(repo))
    assert config.source == explicit and config.fail_on is Severity.INFO


def test_no_file_gives_defaults(repo):
    config = resolve_config(None, [str(repo / "infra")], cwd=str(repo))
    assert config == Config()


def test_missing_explicit_file(repo):
    with pytest.raises(ConfigError, match="no-such.yaml: no such settings file"):
        resolve_config(str(repo / "no-such.yaml"))


def test_explicit_pyproject_without_table_warns(repo):
    path = write(repo / "pyproject.toml", '[project]\nname = "x"\n')
    config = load_config(path)
    assert config == Config(source=path, warnings=[f"{path}: no [tool.kds-iac] table; using default settings"])


def test_unknown_key_is_a_warning(repo):
    path = write(repo / ".kds-iac.yaml", "skip_rules: [KDS001]\ncolour: red\n")
    config = load_config(path)
    assert config.skip_rules == set()
    assert config.warnings == [
        f"{path}: unknown key 'skip_rules' (did you mean 'skip-rules'?) (known keys: skip-rules, fail-on, organization-trail, organization-trail-data-events, kinesis-data-events)",
        f"{path}: unknown key 'colour' (known keys: skip-rules, fail-on, organization-trail, organization-trail-data-events, kinesis-data-events)",
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("skip-rules: KDS001\n", "'skip-rules' must be a list of rule ids, not a string"),
        ("skip-rules: [KDS001, 3]\n", "'skip-rules' must be a list of rule ids; found a number 3"),
        ("fail-on: 3\n", "'fail-on' must be a severity name, not a number"),
        ("fail-on: severe\n", "'fail-on': unknown severity 'severe' (one of: info, low, medium, high, critical)"),
        ("- KDS001\n", "settings must be a mapping of keys to values, not a list"),
        ("skip-rules: [KDS001\n", "invalid YAML"),
    ],
)
def test_wrong_types_name_the_file(repo, text, message):
    path = write(repo / ".kds-iac.yaml", text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_toml_errors_name_the_file_and_table(repo):
    path = write(repo / "pyproject.toml", '[tool.kds-iac]\nfail-on = ["high"]\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml \[tool.kds-iac\]: 'fail-on' must be a severity name"):
        load_config(path)
    broken = write(repo / "pyproject.toml", "[tool.kds-iac\nfail-on = 'high'\n")
    with pytest.raises(ConfigError, match="pyproject.toml: invalid TOML"):
        find_config([str(repo)], cwd=str(repo))
    assert broken


def test_unreadable_file(repo):
    path = repo / ".kds-iac.yaml"
    path.mkdir()  # a directory where a file should be
    with pytest.raises(ConfigError, match="cannot read settings file"):
        load_config(str(path))
    assert os.path.isdir(path)
