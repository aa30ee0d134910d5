"""Expand a SAM template (``Transform: AWS::Serverless-2016-10-31``) with AWS's own translator.

``aws-sam-translator`` is imported only here, and only when a template declares the
transform (it takes ~1 s to import, boto3 included). The translator is run offline:

* ``samtranslator.translator.transform.transform`` is a thin wrapper (parser, translator,
  py27 string marking). We make the same calls, but hand the ``Translator`` a session
  stand-in whose only attribute is ``region_name``: that is samtranslator's own region
  mechanism, so no environment variable is set and no boto3 session reads the user's AWS
  configuration. The region is ``AWS_REGION``/``AWS_DEFAULT_REGION`` when set, else
  ``us-east-1`` (it only decides the partition of generated managed-policy ARNs).
  ``ArnGenerator.BOTO_SESSION_REGION_NAME``, which the ``Translator`` sets globally, is put
  back afterwards;
* the managed policy map is empty (``load()`` returns ``{}``): the translator then builds
  ``arn:aws:iam::aws:policy/NAME`` itself;
* local code locations (``CodeUri: ./src``, ``ContentUri``, ``DefinitionUri``), which
  ``sam build`` would upload, become a placeholder S3 URI so the translator accepts an
  unpackaged template; a Serverless Application Repository ``Location`` becomes a
  placeholder too, so the translator never calls the SAR API, and an info diagnostic says
  that the nested application is not scanned.

Generated resources have no lines. Each SAM resource gets a marker in its ``Metadata``
and the translator runs with ``passthrough_metadata``, which copies that metadata to every
resource made from it: that is how a generated resource is traced back to the SAM resource
that produced it (``generated_from``). Resources made by plugins without a marker (the
implicit ``ServerlessRestApi``/``ServerlessHttpApi``) are traced by logical-id prefix or to
the function whose ``Api``/``HttpApi`` event asked for them.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any, Optional

from kds_iac.loaders.cfn_reader import Mapping, to_plain
from kds_iac.model import Diagnostic, DiagnosticCode
from kds_iac.value import Value, value_kind

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
DEFAULT_REGION = "us-east-1"
PLACEHOLDER_S3_URI = "s3://kds-iac-placeholder-bucket/unpackaged"
_MARKER = "kds-iac:generated-from"
_LOCK = threading.Lock()
_LOGICAL_ID_IN_MESSAGE = re.compile(r"\[([A-Za-z0-9]+)\]")


class Expansion(Value):
    """The translated template's resources, or ``None`` when translation failed."""

    __slots__ = ("resources", "origins", "conditions", "diagnostics")

    def __init__(
        self,
        resources: Optional[dict[str, dict]],
        origins: Optional[dict[str, str]] = None,
        conditions: Optional[dict[str, Any]] = None,
        diagnostics: Optional[list[Diagnostic]] = None,
    ):
        self.resources = resources
        self.origins = {} if origins is None else origins  # generated logical id -> SAM logical id
        self.conditions = {} if conditions is None else conditions  # conditions the translator added
        self.diagnostics = [] if diagnostics is None else diagnostics


def transforms(template: Any) -> list[str]:
    """The names in the template's ``Transform`` (a string, or a list of them)."""
    declared = template.get("Transform") if isinstance(template, dict) else None
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [t for t in declared if isinstance(t, str)]
    return []


def is_sam(template: Any) -> bool:
    return SAM_TRANSFORM in transforms(template)


class _Session:
    """What the translator reads from a boto3 session: the region, nothing else."""

    def __init__(self, region_name: str):
        self.region_name = region_name


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def expand(path: str, template: Mapping) -> Expansion:
    """Translate ``template`` (as ``cfn_reader`` read it: long-form intrinsics)."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        return Expansion(None)
    sam_ids = [
        lid
        for lid, node in resources.items()
        if isinstance(node, dict) and isinstance(node.get("Type"), str) and node["Type"].startswith("AWS::Serverless::")
    ]
    diagnostics: list[Diagnostic] = []
    problem = _globals_problem(template)
    if problem is not None:  # the translator's plugins crash on some of these (and log a traceback)
        line, message = problem
        diagnostics.append(
            Diagnostic("error", path, line, f"SAM transform failed: {message}; the serverless resources are not checked",
                       code=DiagnosticCode.INVALID)
        )
        return Expansion(None, diagnostics=diagnostics)
    fragment = to_plain(template)
    _prepare(fragment, sam_ids, path, resources, diagnostics)
    try:
        translated = _translate(fragment)
    except Exception as error:  # noqa: BLE001 - the translator's own errors and its bugs alike
        diagnostics.extend(_failure_diagnostics(path, template, error))
        return Expansion(None, diagnostics=diagnostics)
    out_resources = translated.get("Resources")
    if not isinstance(out_resources, dict):
        diagnostics.append(Diagnostic("error", path, 1, "SAM translation produced no Resources", code=DiagnosticCode.INVALID))
        return Expansion(None, diagnostics=diagnostics)
    origins = _origins(out_resources, resources, sam_ids)
    original_conditions = template.get("Conditions")
    conditions = translated.get("Conditions")  # passed through as written: maybe not a mapping
    added = {
        name: condition
        for name, condition in (conditions.items() if isinstance(conditions, dict) else ())
        if not isinstance(original_conditions, dict) or name not in original_conditions
    }
    return Expansion(out_resources, origins, added, diagnostics)


def _globals_problem(template: Mapping) -> Optional[tuple[int, str]]:
    """(line, message) when ``Globals`` is not a mapping of sections to mappings, else None."""
    if not isinstance(template, dict) or "Globals" not in template:
        return None
    globals_ = template["Globals"]
    line = template.key_lines.get("Globals", 1) if isinstance(template, Mapping) else 1
    if not isinstance(globals_, dict):
        return line, f"Globals must be a mapping of resource kinds (Function, Api, ...), not {value_kind(globals_, 'empty')}"
    for section, settings in globals_.items():
        if not isinstance(settings, dict):
            section_line = globals_.key_lines.get(section, line) if isinstance(globals_, Mapping) else line
            return section_line, f"Globals.{section} must be a mapping of properties, not {value_kind(settings, 'empty')}"
    return None


def _prepare(fragment: dict, sam_ids: list[str], path: str, resources: Mapping, diagnostics: list) -> None:
    """Mark each SAM resource and replace what the translator cannot take offline."""
    globals_ = fragment.get("Globals")
    global_function = globals_.get("Function") if isinstance(globals_, dict) else None
    if isinstance(global_function, dict) and "CodeUri" in global_function:
        global_function["CodeUri"] = _s3_uri(global_function["CodeUri"])
    global_code = isinstance(global_function, dict) and "CodeUri" in global_function
    for logical_id in sam_ids:
        resource = fragment["Resources"][logical_id]
        metadata = resource.get("Metadata")
        resource["Metadata"] = dict(metadata) if isinstance(metadata, dict) else {}
        resource["Metadata"][_MARKER] = logical_id
        properties = resource.get("Properties")
        if not isinstance(properties, dict):
            continue
        type_ = resource["Type"]
        if type_ == "AWS::Serverless::Function":
            image = properties.get("PackageType") == "Image" or "ImageUri" in properties
            if "InlineCode" not in properties and not image:
                if "CodeUri" in properties or not global_code:
                    properties["CodeUri"] = _s3_uri(properties.get("CodeUri"))
        elif type_ == "AWS::Serverless::LayerVersion" and "ContentUri" in properties:
            properties["ContentUri"] = _s3_uri(properties["ContentUri"])
        elif type_ in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::Serverless::StateMachine"):
            if "DefinitionUri" in properties:
                properties["DefinitionUri"] = _s3_uri(properties["DefinitionUri"])
        elif type_ == "AWS::Serverless::Application" and isinstance(properties.get("Location"), dict):
            properties["Location"] = PLACEHOLDER_S3_URI
            line = resources.key_lines.get(logical_id, 1) if isinstance(resources, Mapping) else 1
            diagnostics.append(
                Diagnostic(
                    "info",
                    path,
                    line,
                    f"{logical_id} is a Serverless Application Repository application; its template is not scanned",
                    code=DiagnosticCode.NOT_CHECKED,
                )
            )


def _s3_uri(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("s3://"):
        return value
    if isinstance(value, dict) and "Bucket" in value:
        return value
    return PLACEHOLDER_S3_URI


def _translate(fragment: dict) -> dict:
    # Imported here: ~1 s (boto3 included), paid only by templates that use the transform.
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

    parameter_values: dict[str, Any] = {}
    policies = _NoManagedPolicies()
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    import logging  # only when a SAM template is expanded: keeps start-up light

    logger = logging.getLogger("samtranslator")
    with _LOCK:
        saved_region = ArnGenerator.BOTO_SESSION_REGION_NAME
        saved_level = logger.level
        # Nothing of the translator's is ours to print: its warnings (feature toggles, metrics),
        # nor the traceback it logs when a plugin fails; a failure becomes our diagnostic.
        logger.setLevel(logging.CRITICAL + 1)
        try:
            to_py27_compatible_template(fragment, parameter_values)
            translator = Translator(None, Parser(), boto_session=_Session(region()), metrics=metrics)
            translated = translator.translate(
                fragment,
                parameter_values=parameter_values,
                passthrough_metadata=True,
                get_managed_policy_map=policies.load,
            )
        finally:
            ArnGenerator.BOTO_SESSION_REGION_NAME = saved_region
            metrics.publish()  # else its destructor logs "unpublished metrics"
            logger.setLevel(saved_level)
    return undo_mark_unicode_str_in_template(translated)


def _failure_diagnostics(path: str, template: Any, error: Exception) -> list[Diagnostic]:
    resources = template.get("Resources") if isinstance(template, dict) else None
    transform_line = template.key_lines.get("Transform", 1) if isinstance(template, Mapping) else 1
    causes = getattr(error, "causes", None)
    if not causes:
        causes = [error]
    diagnostics = []
    for cause in causes:
        message = getattr(cause, "message", None)
        if not isinstance(message, str):
            message = f"{type(cause).__name__}: {cause}"
        line = transform_line
        logical_id = getattr(cause, "_logical_id", None)
        if logical_id == "Globals" and isinstance(template, Mapping) and "Globals" in template.key_lines:
            line = template.key_lines["Globals"]
            message = message.replace("${section}", "each section")  # an unfilled placeholder of the translator
        candidates = [logical_id] if isinstance(logical_id, str) else []
        if isinstance(logical_id, list):
            candidates.extend(x for x in logical_id if isinstance(x, str))
        candidates.extend(_LOGICAL_ID_IN_MESSAGE.findall(message))
        if isinstance(resources, Mapping):
            for candidate in candidates:
                found = _resource_for(candidate, resources)
                if found:
                    line = resources.key_lines[found]
                    break
        diagnostics.append(
            Diagnostic(
                "error",
                path,
                line,
                f"SAM transform failed: {message.strip().rstrip('.')}; the serverless resources are not checked",
                code=DiagnosticCode.INVALID,
            )
        )
    return diagnostics


def _resource_for(logical_id: str, resources: dict) -> Optional[str]:
    """The resource ``logical_id`` names, or whose SAM id it starts with (an event: ``FnClicks``)."""
    if logical_id in resources:
        return logical_id
    prefixes = [lid for lid in resources if logical_id.startswith(lid)]
    return max(prefixes, key=len) if prefixes else None


def _origins(out_resources: dict, resources: dict, sam_ids: list[str]) -> dict[str, str]:
    """Generated logical id -> the SAM resource it came from; markers removed from metadata."""
    origins: dict[str, str] = {}
    unmarked: list[str] = []
    for lid, resource in out_resources.items():
        if not isinstance(resource, dict):
            continue
        metadata = resource.get("Metadata")
        if isinstance(metadata, dict) and _MARKER in metadata:
            origins[lid] = metadata.pop(_MARKER)
            if not metadata:
                del resource["Metadata"]
        elif lid not in resources or lid in sam_ids:
            unmarked.append(lid)
    for lid in unmarked:
        origin = _by_prefix(lid, sam_ids) or _implicit_api_origin(lid, resources, sam_ids)
        if origin:
            origins[lid] = origin
    return origins


def _by_prefix(lid: str, sam_ids: list[str]) -> Optional[str]:
    prefixes = [sam_id for sam_id in sam_ids if lid.startswith(sam_id)]
    return max(prefixes, key=len) if prefixes else None


def _implicit_api_origin(lid: str, resources: dict, sam_ids: list[str]) -> Optional[str]:
    wanted = "HttpApi" if lid.startswith("ServerlessHttpApi") else "Api" if lid.startswith("ServerlessRestApi") else None
    if wanted:
        for sam_id in sam_ids:
            properties = resources[sam_id].get("Properties")
            events = properties.get("Events") if isinstance(properties, dict) else None
            if isinstance(events, dict) and any(
                isinstance(e, dict) and e.get("Type") == wanted for e in events.values()
            ):
                return sam_id
    return sam_ids[0] if sam_ids else None


__all__ = ["SAM_TRANSFORM", "Expansion", "expand", "is_sam", "transforms"]
