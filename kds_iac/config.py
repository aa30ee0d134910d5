"""Project settings: ``[tool.kds-iac]`` in ``pyproject.toml`` or ``.kds-iac.yaml``.

Where settings come from (first match wins, nothing is merged):

1. ``--config FILE`` on the command line (any ``*.toml`` is read for its ``[tool.kds-iac]``
   table; anything else is read as YAML);
2. a search that starts in the first scanned directory (or the directory of the first
   scanned file) and walks upward;
3. the same search from the current directory.

A search looks in each directory for ``.kds-iac.yaml``, ``.kds-iac.yml``, then a
``pyproject.toml`` that has a ``[tool.kds-iac]`` table (a ``pyproject.toml`` without one is
passed over), and stops after the directory that holds ``.git`` (the repository root) or at
the filesystem root.

Keys (the same in TOML and YAML):

``skip-rules``
    list of rule ids (``KDS001``) or checkov ids (``CKV_KDS_1``) not to run.
``fail-on``
    lowest severity that makes ``kds-iac scan`` exit 1: info, low, medium, high, critical.
``organization-trail``
    free text (the trail's ARN, the repository that defines it) declaring that a CloudTrail
    organization trail outside this scope records the API calls of its accounts: the
    coverage rule passes, and the output says so and why.
``organization-trail-data-events``
    true when that organization trail also records Kinesis data events (default false).
``kinesis-data-events``
    false to stop asking for Kinesis data events to be recorded (default true).

An unknown key is a warning (``Config.warnings``); a key with the wrong type, an unknown
severity or a file that is not valid TOML/YAML raises ``ConfigError`` naming the file.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional, Sequence

from kds_iac.rules.base import Severity
from kds_iac.value import Value, value_kind

TOOL_KEY = "kds-iac"
DEDICATED_NAMES = (".kds-iac.yaml", ".kds-iac.yml")
PYPROJECT = "pyproject.toml"
KNOWN_KEYS = (
    "skip-rules",
    "fail-on",
    "organization-trail",
    "organization-trail-data-events",
    "kinesis-data-events",
)


class ConfigError(ValueError):
    """A settings file that cannot be used; the message names the file."""


class AuditSettings(Value):
    """What rules about the whole scope need to know of the world outside it (CloudTrail)."""

    __slots__ = ("organization_trail", "organization_trail_data_events", "require_data_events", "source")

    def __init__(
        self,
        organization_trail: Optional[str] = None,
        organization_trail_data_events: bool = False,
        require_data_events: bool = True,
        source: Optional[str] = None,
    ):
        self.organization_trail = organization_trail  # free-text reference to a trail outside the scope
        self.organization_trail_data_events = organization_trail_data_events  # it records Kinesis data events
        self.require_data_events = require_data_events  # ask for Kinesis data events to be recorded
        self.source = source  # the settings file these came from, for messages


class Config(Value):
    __slots__ = ("skip_rules", "fail_on", "source", "warnings", "fail_on_set", "audit")

    def __init__(
        self,
        skip_rules: Optional[set[str]] = None,
        fail_on: Severity = Severity.INFO,
        source: Optional[str] = None,
        warnings: Optional[list[str]] = None,
        fail_on_set: bool = False,
        audit: Optional[AuditSettings] = None,
    ):
        self.skip_rules = set() if skip_rules is None else skip_rules  # rule ids or checkov ids
        self.fail_on = fail_on  # lowest severity that makes the exit code 1
        self.source = source  # the file the settings came from, for the output header
        self.warnings = [] if warnings is None else warnings  # unknown keys and the like, "file: text"
        self.fail_on_set = fail_on_set  # True when the file gave fail-on (the CLI flag still wins)
        self.audit = AuditSettings() if audit is None else audit

    @classmethod
    def from_mapping(cls, data: Any, source: str, where: Optional[str] = None) -> "Config":
        """Validate one settings table (already parsed) read from the file ``source``.

        ``where`` names the table in messages (``pyproject.toml [tool.kds-iac]``).
        """
        label = where or source
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{label}: settings must be a mapping of keys to values, not {value_kind(data)}")
        config = cls(source=source)
        audit: dict[str, Any] = {"source": source}
        for key, value in data.items():
            if key == "skip-rules":
                config.skip_rules = set(_rule_ids(value, label))
            elif key == "fail-on":
                if not isinstance(value, str):
                    raise ConfigError(f"{label}: 'fail-on' must be a severity name, not {value_kind(value)}")
                try:
                    config.fail_on = Severity.parse(value)
                except ValueError as error:
                    raise ConfigError(f"{label}: 'fail-on': {error}") from None
                config.fail_on_set = True
            elif key == "organization-trail":
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError(f"{label}: 'organization-trail' must be a non-empty text (the trail's ARN or where it is defined), not {value_kind(value)}")
                audit["organization_trail"] = value.strip()
            elif key in ("organization-trail-data-events", "kinesis-data-events"):
                if not isinstance(value, bool):
                    raise ConfigError(f"{label}: {key!r} must be true or false, not {value_kind(value)}")
                audit["organization_trail_data_events" if key.startswith("organization") else "require_data_events"] = value
            else:
                config.warnings.append(f"{label}: unknown key {key!r}{_did_you_mean(str(key))} (known keys: {', '.join(KNOWN_KEYS)})")
        if audit.get("organization_trail_data_events") and "organization_trail" not in audit:
            raise ConfigError(f"{label}: 'organization-trail-data-events' needs 'organization-trail' (which trail records them)")
        config.audit = AuditSettings(**audit)
        return config


def load_config(path: str) -> Config:
    """Read settings from ``path`` (a ``*.toml`` file's ``[tool.kds-iac]`` table, else YAML)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read settings file: {error.strerror or error}") from None
    if path.endswith(".toml"):
        document = _parse_toml(raw, path)
        tool = document.get("tool", {})
        if not isinstance(tool, dict) or TOOL_KEY not in tool:
            config = Config(source=path)
            config.warnings.append(f"{path}: no [tool.{TOOL_KEY}] table; using default settings")
            return config
        return Config.from_mapping(tool[TOOL_KEY], path, f"{path} [tool.{TOOL_KEY}]")
    return Config.from_mapping(_parse_yaml(raw, path), path)


def find_config(paths: Sequence[str] = (), cwd: Optional[str] = None) -> Optional[str]:
    """The settings file for a scan of ``paths``, or ``None``. See the module docstring."""
    starts: list[str] = []
    if paths:
        first = os.path.abspath(str(paths[0]))
        starts.append(first if os.path.isdir(first) else os.path.dirname(first))
    starts.append(os.path.abspath(cwd or os.getcwd()))
    seen: set[str] = set()
    for start in starts:
        if start in seen:
            continue
        seen.add(start)
        found = _search_upward(start)
        if found:
            return found
    return None


def resolve_config(explicit: Optional[str], paths: Sequence[str] = (), cwd: Optional[str] = None) -> Config:
    """``--config FILE`` if given, else the discovered file, else defaults."""
    if explicit is not None:
        if not os.path.isfile(explicit):
            raise ConfigError(f"{explicit}: no such settings file")
        return load_config(explicit)
    found = find_config(paths, cwd)
    return load_config(found) if found else Config()


def discovered_config(paths: Sequence[str], cwd: Optional[str] = None) -> tuple[Config, Optional[str], Optional[ConfigError]]:
    """For front-ends that go on with defaults when the settings file is broken (checkov, cfn-lint,
    the language server): the settings, the file they come from, and what was wrong with it."""
    source = find_config(paths, cwd)
    if source is None:
        return Config(), None, None
    try:
        return load_config(source), source, None
    except ConfigError as error:
        return Config(), source, error


def _search_upward(start: str) -> Optional[str]:
    directory = start
    while True:
        for name in DEDICATED_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
        candidate = os.path.join(directory, PYPROJECT)
        if os.path.isfile(candidate) and _declares_tool_table(candidate):
            return candidate
        if os.path.exists(os.path.join(directory, ".git")):
            return None  # the repository root: settings above it belong to someone else
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _declares_tool_table(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return False
    if TOOL_KEY.encode() not in raw:  # cheap pre-check: most pyproject files are not ours
        return False
    tool = _parse_toml(raw, path).get("tool", {})
    return isinstance(tool, dict) and TOOL_KEY in tool


def _parse_toml(raw: bytes, path: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def _parse_yaml(raw: bytes, path: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as error:
        detail = str(error).replace("\n", " ")
        raise ConfigError(f"{path}: invalid YAML: {detail}") from None


def _rule_ids(value: Any, source: str) -> Iterable[str]:
    if not isinstance(value, list):
        raise ConfigError(f"{source}: 'skip-rules' must be a list of rule ids, not {value_kind(value)}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{source}: 'skip-rules' must be a list of rule ids; found {value_kind(item)} {item!r}")
        yield item.strip().upper()


def _did_you_mean(key: str) -> str:
    import difflib  # only for a mistyped key: keeps start-up light

    close = difflib.get_close_matches(key.replace("_", "-"), KNOWN_KEYS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
