"""The ``kds-iac`` command line: ``scan``, ``rules``, ``lsp``, ``checkov-dir`` and ``cfnlint-dir``.

Startup matters (editors run ``kds-iac scan FILE`` on save), so this module imports only the
standard library at load time; the engine is imported by ``scan`` and each output format
only when asked for. Nothing here imports checkov or cfn-lint, directly or not.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Iterable, NoReturn, Optional, Sequence, TextIO

PROG = "kds-iac"
SEVERITIES = ("info", "low", "medium", "high", "critical")
FORMATS = ("text", "json", "sarif", "junitxml", "markdown", "html")
MAP_FORMATS = ("json", "markdown", "html")

EXIT_CODES = """\
exit codes:
  0  clean: no unsuppressed finding at or above --fail-on (or --soft-fail given),
     and every input was read
  1  at least one unsuppressed finding at or above --fail-on (default: info)
  2  usage error, invalid settings file, unwritable --output, or an input that could
     not be read (parse error; a report is still written) -- also with --soft-fail
"""

SCAN_EPILOG = (
    EXIT_CODES
    + """
settings:
  [tool.kds-iac] in pyproject.toml or a .kds-iac.yaml file, searched from the first
  scanned directory upward to the git root, then from the current directory; or
  --config FILE. Keys:
    skip-rules                      list of rule ids not to run (KDS001 or CKV_KDS_1)
    fail-on                         lowest severity that fails the run
    organization-trail              free text naming an organization trail outside the
                                    scope that records these accounts (KDS020/KDS021)
    organization-trail-data-events  true: that trail also records Kinesis data events
    kinesis-data-events             false: do not ask for data events (KDS022)
  Command-line flags win over the file; --skip-rule adds to skip-rules.

baseline:
  --create-baseline records today's findings (rule id, file, resource address; never
  line numbers) in .kds-iac.baseline in the first scanned directory, or in --baseline
  FILE, and exits 0 unless an input could not be read. --baseline FILE then leaves
  out the findings it lists: only new findings are reported and fail the run.

fixes:
  --fix applies the safe fixes (a fix changes only the flagged setting, keeping the
  file's layout and comments), scans again (up to 5 passes: fixes whose edits overlap
  wait for the next) and reports the findings that remain; --unsafe-fixes lets it apply
  unsafe fixes too (they add resources, such as a new KMS key). --diff prints the
  unified diff of the first pass instead of the report and changes nothing. Text
  output marks the findings with a fix --fix applies with [*] after the rule id.

output:
  text      one "path:line:col: SEVERITY RULE message [resource]" line per finding on
            stdout (or --output); the header and summary go to stderr
  json      schema version 1, see docs/output-json.md
  sarif     SARIF 2.1.0 (GitHub code scanning); paths relative to the current directory
  junitxml  one testsuite per rule, one failing testcase per finding
  markdown  findings, then who can touch each stream (for $GITHUB_STEP_SUMMARY)
  html      one self-contained page: summary, filterable findings, a drawing per stream
"""
)


class UsageError(Exception):
    """A problem with what the user asked for: exit code 2, no traceback."""


class _VersionAction(argparse.Action):
    """``--version``, reading the installed version only when asked (it costs a metadata scan)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[override]
        sys.stdout.write(f"{PROG} {_version()}\n")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Policy-as-code checks for Amazon Kinesis Data Streams in Terraform and CloudFormation.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser(
        "scan",
        help="scan Terraform directories, CloudFormation templates and plan JSON",
        description="Scan templates and report findings. PATH is a directory (scanned recursively: "
        "each directory of .tf files is a Terraform module) or a file.",
        epilog=SCAN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan.add_argument("paths", nargs="+", metavar="PATH", help="directory or file to scan (the scope)")
    scan.add_argument("-f", "--format", choices=FORMATS, default="text", help="report format (default: text)")
    scan.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    scan.add_argument(
        "--fail-on",
        type=str.lower,
        choices=SEVERITIES,
        metavar="SEVERITY",
        help="lowest severity that fails the run: info, low, medium, high, critical "
        "(default: fail-on from settings, else info)",
    )
    scan.add_argument(
        "--soft-fail",
        action="store_true",
        help="findings never fail the run (exit 0); unreadable inputs and usage errors still exit 2",
    )
    scan.add_argument("-c", "--config", metavar="FILE", help="settings file (pyproject.toml or .kds-iac.yaml)")
    scan.add_argument(
        "--var-file",
        action="append",
        default=[],
        metavar="FILE",
        help="Terraform .tfvars file (repeatable)",
    )
    scan.add_argument(
        "--var",
        action="append",
        default=[],
        type=_variable,
        metavar="NAME=VALUE",
        help="Terraform input variable (repeatable)",
    )
    scan.add_argument(
        "--skip-rule",
        action="append",
        default=[],
        metavar="ID",
        help="do not run rule ID (KDS001 or CKV_KDS_1; repeatable; adds to skip-rules from settings)",
    )
    scan.add_argument("--no-progress", action="store_true", help="never draw the progress bar")
    scan.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour text output: auto = only on a terminal and when NO_COLOR is unset (default)",
    )
    scan.add_argument("-q", "--quiet", action="store_true", help="no header and summary lines on stderr")
    scan.add_argument(
        "--baseline",
        metavar="FILE",
        help="leave out the findings recorded in FILE (see --create-baseline): only new findings count",
    )
    scan.add_argument(
        "--create-baseline",
        action="store_true",
        help="record the findings of this scan in --baseline FILE, else .kds-iac.baseline in the first "
        "scanned directory; exits 0 unless an input could not be read",
    )
    scan.add_argument(
        "--fix",
        action="store_true",
        help="apply the safe fixes of the findings to the scanned files, scan again and report what "
        "remains (with --unsafe-fixes, the unsafe ones too)",
    )
    scan.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="let --fix and --diff apply unsafe fixes too (they add resources, such as a new KMS key)",
    )
    scan.add_argument(
        "--diff",
        action="store_true",
        help="print the unified diff of what --fix would change instead of the report, change nothing; "
        "exit 1 when there is something to fix",
    )
    scan.add_argument(
        "--whole-module",
        action="store_true",
        help="a named .tf, .tf.json or .tfvars file stands for every Terraform file of its directory: "
        "report the findings of the whole module (what the pre-commit hook passes)",
    )
    scan.add_argument(
        "--ignore-unrecognized",
        action="store_true",
        help="skip named files that are neither Terraform, a CloudFormation template nor a plan JSON "
        "instead of failing on them (pre-commit and editors pass every changed .yaml and .json)",
    )
    scan.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        metavar="N",
        help="load up to N Terraform modules at once, CloudFormation templates in N shares, and compute a JSON "
        "or SARIF report's fix edits in N shares (default: the cores available to the process; 1: one after "
        "the other); the report is the same, and a small scan is always done serially",
    )

    access = commands.add_parser(
        "map",
        help="who can touch each stream: writers, readers, administrators, key users, audit, destinations",
        description="Scan PATHs and report, for every stream, the principals that may write, read, "
        "administer it or use its key (with the grant and how they get credentials), policies that "
        "open it to other accounts or anyone, what audits it and where its records go, with the "
        "findings that concern them. Exit 0 unless an input could not be read (2).",
    )
    access.add_argument("paths", nargs="+", metavar="PATH", help="directory or file to scan (the scope)")
    access.add_argument("-f", "--format", choices=MAP_FORMATS, default="json", help="json (default; docs/output-map-json.md), markdown or html")
    access.add_argument("-o", "--output", metavar="FILE", help="write the map to FILE instead of stdout")
    access.add_argument("-c", "--config", metavar="FILE", help="settings file (pyproject.toml or .kds-iac.yaml)")
    access.add_argument("--var-file", action="append", default=[], metavar="FILE", help="Terraform .tfvars file (repeatable)")
    access.add_argument("--var", action="append", default=[], type=_variable, metavar="NAME=VALUE", help="Terraform input variable (repeatable)")

    rules = commands.add_parser("rules", help="list the rules: id, checkov id, severity, title")
    rules.add_argument("-f", "--format", choices=("text", "json"), default="text")

    lsp = commands.add_parser(
        "lsp",
        help="run the language server (LSP over stdio) for editors",
        description="Language server over stdio: validates Terraform and CloudFormation files on open, "
        "on save and as you type, and publishes diagnostics (rule id, severity, range, link to the rule's doc); "
        "findings' fixes are code actions (a quick fix each, and fix all safe problems in the file).",
    )
    lsp.add_argument("--stdio", action="store_true", help="use stdin/stdout (the default and only transport)")

    commands.add_parser(
        "checkov-dir",
        help="print the folder to pass to checkov --external-checks-dir",
        description="Print the absolute folder of the checkov checks shipped with kds-iac, for "
        'checkov -d DIR --external-checks-dir "$(kds-iac checkov-dir)" --skip-download',
    )

    commands.add_parser(
        "cfnlint-dir",
        help="print the folder to pass to cfn-lint --append-rules",
        description="Print the absolute folder of the cfn-lint rule pack shipped with kds-iac, for "
        'cfn-lint --append-rules "$(kds-iac cfnlint-dir)" TEMPLATE (the dotted module '
        "kds_iac.frontends.cfnlint_rules works too)",
    )
    return parser


def _one_shot():
    """`scan` and `map` run with the cyclic garbage collector off. What a scan builds lives until
    the report is written, so the collector's walks over it find nothing, and they grow with it:
    15 % of the CPU of a 1,000-template scan, a quarter of a 10 MB template's, for no memory
    (peak RSS within 2 MB; benchmarks/README.md). Reference counting frees as usual; a --fix
    pass collects what the pass before it left. In the ``kds-iac`` command (``run``) the
    collector stays off to the end: switched on again, it would walk everything once more
    just before the process ends."""
    if _ENDS_PROCESS:
        import contextlib

        gc.disable()
        return contextlib.nullcontext()
    from kds_iac import gc_pause

    return gc_pause.paused()


# Set by ``run``: this process ends when ``main`` returns, so what a command built is kept to
# the end (``_keep``) and left to the system to free instead of being freed piece by piece.
_ENDS_PROCESS = False
_KEPT: list = []


def run() -> NoReturn:
    """The ``kds-iac`` command (and ``python -m kds_iac``): ``main``, then ``quick_exit.leave``.
    Callers in the same process (tests, tools) call ``main``, which returns its exit code."""
    global _ENDS_PROCESS
    from kds_iac.quick_exit import leave

    _ENDS_PROCESS = True
    leave(main())


def _keep(*objects: object) -> None:
    """Hold what a command built until the process ends, when ``run`` started it."""
    if _ENDS_PROCESS:
        _KEPT.append(objects)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help/--version (0) or a usage error (2)
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if os.environ.get("KDS_IAC_DEBUG"):  # the tracebacks behind `internal` diagnostics, on stderr
        import logging

        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(levelname)s: %(message)s"))
        logging.getLogger("kds_iac").addHandler(handler)
        logging.getLogger("kds_iac").setLevel(logging.DEBUG)
    try:
        if args.command == "scan":
            with _one_shot():
                return scan_command(args)
        if args.command == "rules":
            return rules_command(args)
        if args.command == "map":
            with _one_shot():
                return map_command(args)
        if args.command == "lsp":
            return lsp_command(args)
        if args.command == "cfnlint-dir":
            return cfnlint_dir_command()
        return checkov_dir_command()
    except UsageError as error:
        _error(str(error))
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 2
    except Exception as error:  # a bug, not a finding: never exit 1, which means "findings"
        _internal_error(error)
        return 2


# --- scan ------------------------------------------------------------------------------


def scan_command(args: argparse.Namespace) -> int:
    from kds_iac.preload import preload_tfparse_if_terraform

    preload_tfparse_if_terraform(args.paths)  # first: tfparse's Go start-up overlaps the imports below
    from kds_iac.config import ConfigError, resolve_config
    from kds_iac.rules.base import Severity

    for var_file in args.var_file:
        if not os.path.isfile(var_file):
            from kds_iac.files import special_kind

            kind = special_kind(var_file)  # `--var-file <(...)` is a pipe: reading it could block
            raise UsageError(f"--var-file {var_file}: " + (f"not a regular file ({kind})" if kind else "no such file"))
    if args.output:
        parent = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(parent):
            raise UsageError(f"--output {args.output}: directory {parent} does not exist")

    if (args.fix or args.diff) and args.create_baseline:
        raise UsageError("--fix and --diff cannot be used with --create-baseline")
    if args.baseline and not args.create_baseline and not os.path.isfile(args.baseline):
        raise UsageError(f"--baseline {args.baseline}: no such file (create it with --create-baseline)")
    if args.whole_module:
        args.paths = whole_module_paths(args.paths)
    if args.ignore_unrecognized:
        args.paths = recognized_paths(args.paths)
        if not args.paths:
            if not args.quiet:
                _stderr_line(f"{PROG}: nothing to scan: no Terraform file, CloudFormation template or plan JSON named")
            return 0

    cwd = os.getcwd()
    try:
        config = resolve_config(args.config, args.paths, cwd)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    for warning in config.warnings:
        _warn(warning)
    config.skip_rules |= {rule_id.strip().upper() for rule_id in args.skip_rule if rule_id.strip()}
    fail_on = Severity.parse(args.fail_on) if args.fail_on else config.fail_on

    from kds_iac import engine
    from kds_iac.output import pieces
    from kds_iac.output.common import ReportContext, compute_exit_code, tool_version
    from kds_iac.output.progress import ProgressBar, wanted

    _warn_unknown_rules(config.skip_rules)
    version = tool_version()
    context = ReportContext(
        tool_version=version,
        fail_on=fail_on,
        soft_fail=args.soft_fail,
        config_source=_display_path(config.source, cwd) if config.source else None,
        cwd=cwd,
    )

    if not args.quiet:
        from kds_iac.output.text import header

        _stderr_line(header(args.paths, context))

    variables = dict(args.var)
    jobs = args.jobs or _default_jobs()

    def run_scan():
        bar = ProgressBar(sys.stderr) if wanted(sys.stderr, args.no_progress) else None
        try:
            return engine.scan(
                args.paths,
                config=config,
                var_files=list(args.var_file),
                variables=variables or None,
                progress=bar,
                jobs=jobs,
            )
        finally:
            if bar is not None:
                bar.close()

    result = run_scan()

    if not args.quiet and result.audit:
        from kds_iac.output.text import audit_line

        _stderr_line(audit_line(result))
    baseline_note = apply_baseline(args, result, context) if (args.baseline or args.create_baseline) else None
    context.unsafe_fixes = args.unsafe_fixes
    if args.diff:
        return diff_fixes(args, result, context)
    applied = None
    if args.fix:
        result, applied = apply_fixes(args, result, context, run_scan)
    if any(f.fix is not None for f in result.findings) and args.format in ("json", "sarif"):
        from kds_iac.fixes.apply import offered

        context.fixes = offered(result.findings, jobs=jobs)  # the formats that show the edits
    context.exit_code = compute_exit_code(result, fail_on, args.soft_fail)
    stream = None if args.output else sys.stdout
    context.color = args.format == "text" and _use_color(args.color, stream)
    # text, JSON, SARIF and JUnit XML are written as they are made: one string took more memory than the scan
    _write_report(pieces(args.format)(result, context), args.output)
    _keep(result, context)

    if not args.quiet:
        from kds_iac.output.text import fix_counts, fix_hint, fix_summary, summary

        _stderr_line(summary(result, context))
        if applied is not None:
            _stderr_line(fix_summary(applied, len(result.findings), fix_counts(result, context)[1]))
        else:
            hint = fix_hint(result, context)
            if hint:
                _stderr_line(hint)
    if baseline_note and not args.quiet:
        _stderr_line(f"{PROG}: {baseline_note}")
    return context.exit_code


def apply_fixes(args: argparse.Namespace, result, context, run_scan) -> tuple:
    """``--fix``: apply the fixes, scan again, and repeat while fixes were left out for
    overlapping an applied one (at most ``MAX_PASSES``). The last scan's result, and how
    many fixes of each safety were applied."""
    from kds_iac.fixes import apply

    applied = {"safe": 0, "unsafe": 0}
    done: set[tuple[str, str, str]] = set()  # a finding fixed once is not fixed again

    def key(finding) -> tuple[str, str, str]:
        return (finding.rule.id, finding.location.file, finding.address)

    for _ in range(apply.MAX_PASSES):
        plan = apply.plan(
            [f for f in result.findings if key(f) not in done],
            unsafe=args.unsafe_fixes,
            allowed=apply.Scope(args.paths, result.files).allows,
        )
        _warn_outside(plan)
        if not plan.planned:
            break
        plan.apply()
        for path in plan.changed:
            _warn(f"{path} changed while it was being fixed: not written")
        if not plan.written:
            break
        for planned in plan.applied():
            applied[planned.safety] += 1
            done.add(key(planned.finding))
        overlapping = plan.overlapping
        plan = planned = result = None  # nothing of the previous pass's scan is held here now,
        gc.collect()  # so its cycles go before the next scan is built (the collector is off: _one_shot)
        result = run_scan()
        if args.baseline:
            apply_baseline(args, result, context)
        if not overlapping:
            break
    for finding in result.findings:
        if key(finding) in done:  # a writer's or a rule's bug: say so rather than loop
            _warn(f"{finding.rule.id} [{finding.address}] is still reported after its fix was applied")
    return result, applied


def _warn_outside(plan) -> None:
    """Name each fix left alone because it would write where ``--fix`` may not."""
    for finding in plan.outside:
        _warn(
            f"{finding.location.file}: the fix of {finding.rule.id} [{finding.address}] is not applied: it would "
            "write a file the scan did not read or one a link leads to out of the scanned tree"
        )


def diff_fixes(args: argparse.Namespace, result, context) -> int:
    """``--diff``: the unified diff of what ``--fix`` would change, on stdout or ``--output``;
    nothing is written. Exit 1 when there is something to fix, 2 when an input could not be read."""
    from kds_iac.fixes import apply
    from kds_iac.output.text import fix_summary

    plan = apply.plan(result.findings, unsafe=args.unsafe_fixes, allowed=apply.Scope(args.paths, result.files).allows)
    _warn_outside(plan)
    _write_report(plan.diff(), args.output)
    if not args.quiet:
        summary = fix_summary(plan.counts(), None, len(plan.unsafe))
        if plan.overlapping:
            summary += f"; {len(plan.overlapping)} more after these (they overlap)"
        _stderr_line(summary)
    if any(d.level == "error" for d in result.diagnostics):
        return 2
    return 1 if plan.changes() else 0


def map_command(args: argparse.Namespace) -> int:
    """``kds-iac map``: one engine scan, then the access map of its model in the asked format."""
    import importlib

    from kds_iac.config import ConfigError, resolve_config

    if args.output and not os.path.isdir(os.path.dirname(os.path.abspath(args.output))):
        raise UsageError(f"--output {args.output}: directory does not exist")
    try:
        config = resolve_config(args.config, args.paths, os.getcwd())
    except ConfigError as error:
        raise UsageError(str(error)) from None
    from kds_iac import access_map, engine

    result = engine.scan(
        args.paths, config=config, var_files=list(args.var_file), variables=dict(args.var) or None, jobs=_default_jobs()
    )
    built = access_map.build(result)
    module = importlib.import_module("kds_iac.output." + {"json": "map_json", "markdown": "markdown", "html": "html"}[args.format])
    _write_report(getattr(module, "map_chunks", module.render_map)(built), args.output)  # in pieces where it has them
    _keep(result, built)
    return 2 if any(d.level == "error" for d in result.diagnostics) else 0


def apply_baseline(args: argparse.Namespace, result, context) -> str:
    """Write the baseline (``--create-baseline``) or drop the findings it lists (``--baseline``).

    Either way the findings the baseline holds leave ``result.findings``, so they neither
    appear in the report nor fail the run; ``context.baselined`` counts them for the summary.
    """
    from kds_iac import baseline

    try:
        if args.create_baseline:
            path = args.baseline or baseline.default_path(args.paths)
            count = baseline.write(result.findings, path)
            context.baselined = len(result.findings)
            result.findings = []
            return f"baseline written to {_display_path(path, context.cwd)}: {count} resource{'s' if count != 1 else ''}, {context.baselined} finding{'s' if context.baselined != 1 else ''}"
        recorded = baseline.load(args.baseline)
    except baseline.BaselineError as error:
        raise UsageError(str(error)) from None
    new, known = recorded.split(result.findings)
    result.findings = new
    context.baselined = len(known)
    stale = recorded.stale(known, result.files)
    note = f"baseline {_display_path(args.baseline, context.cwd)}: {len(known)} known finding{'s' if len(known) != 1 else ''} left out"
    if stale:
        note += f"; {len(stale)} entr{'ies' if len(stale) != 1 else 'y'} no longer found (fixed, renamed or moved?), re-create the baseline to drop {'them' if len(stale) != 1 else 'it'}:"
        for rule_id, file, resource in stale:  # named, so a reviewer can tell a fix from a rename
            shown = _display_path(os.path.join(recorded.base, *file.split("/")), context.cwd)
            note += f"\n  {shown}: {rule_id} [{resource}]"
    return note


def _write_report(report: Iterable[str], output: Optional[str]) -> None:
    """The report (text, or its pieces) into ``--output`` or onto stdout (a closed pipe ends it quietly)."""
    if isinstance(report, str):
        report = (report,)
    if output:
        try:
            with open(output, "w", encoding="utf-8", newline="\n") as handle:
                for chunk in report:
                    handle.write(chunk)
        except OSError as error:
            raise UsageError(f"--output {output}: cannot write: {error.strerror or error}") from None
        return
    try:
        for chunk in report:
            sys.stdout.write(chunk)
        sys.stdout.flush()
    except BrokenPipeError:  # `kds-iac scan . | head`: the reader has seen enough
        _silence_stdout()


def whole_module_paths(paths: Sequence[str]) -> list[str]:
    """Each named Terraform file (or .tfvars) replaced by every Terraform file of its directory."""
    from kds_iac.files import is_terraform_file

    out: dict[str, None] = {}
    for path in paths:
        name = os.path.basename(path)
        is_tf = is_terraform_file(name)
        if os.path.isfile(path) and (is_tf or name.endswith((".tfvars", ".tfvars.json"))):
            directory = os.path.dirname(path)
            try:
                siblings = sorted(n for n in os.listdir(directory or ".") if is_terraform_file(n))
            except OSError:
                siblings = []
            for sibling in siblings:
                full = os.path.join(directory, sibling)
                if os.path.isfile(full):
                    out.setdefault(full, None)
            if is_tf:
                out.setdefault(path, None)
        else:
            out.setdefault(path, None)
    return list(out)


def recognized_paths(paths: Sequence[str]) -> list[str]:
    """``paths`` without the named files that are not ours (directories and missing paths stay).

    A file is ours as in a directory scan: it claims to be a template or plan by content, or
    is a Serverless service or a fragment one includes. Merely mentioning ``Type: AWS::...``
    (a saved checkov report among the changed files) is not enough."""
    from kds_iac.files import decode_head, read_bytes
    from kds_iac.loaders.discovery import SNIFF_BYTES, claims, discover, is_terraform_file
    from kds_iac.model import DiagnosticCode

    kept = []
    for path in paths:
        if os.path.isfile(path) and not is_terraform_file(os.path.basename(path)):
            found = discover([path])
            if found.cloudformation_templates and not (found.terraform_plans or found.serverless_services):
                try:
                    claimed = claims(decode_head(read_bytes(path, SNIFF_BYTES))) is not None
                except OSError:
                    claimed = True  # let the scan say what is wrong with it
                if not claimed:
                    continue
            elif not (found.cloudformation_templates or found.terraform_plans or found.serverless_services) and all(
                d.code == DiagnosticCode.NOT_A_TEMPLATE for d in found.diagnostics
            ):
                continue
        kept.append(path)
    return kept


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _default_jobs() -> int:
    from kds_iac.loaders.parallel import available_cores

    return available_cores()


def _variable(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def _warn_unknown_rules(skip_rules: set[str]) -> None:
    if not skip_rules:
        return
    from kds_iac.rules import all_rules

    known = {r.rule.id for r in all_rules()} | {r.rule.checkov_id for r in all_rules()}
    unknown = sorted(skip_rules - known)
    if unknown:
        _warn(f"skipping unknown rule id{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} (see `{PROG} rules`)")


def _use_color(choice: str, stream: Optional[TextIO]) -> bool:
    if choice == "always":
        return True
    if choice == "never" or stream is None:
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# --- rules -----------------------------------------------------------------------------


def rules_command(args: argparse.Namespace) -> int:
    from kds_iac.rules import all_rules

    rules = [module.rule for module in all_rules()]
    if args.format == "json":
        import json

        from kds_iac.reporting import cfnlint_id

        rows = [
            {
                "id": r.id,
                "checkov_id": r.checkov_id,
                "severity": r.severity.name.lower(),
                "title": r.title,
                "resource_types": list(r.resource_types),
                "formats": list(r.formats),
                "help_uri": r.help_uri,
                "cfnlint_id": cfnlint_id(r) if "cloudformation" in r.formats else None,
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    sys.stdout.write(format_rules_table(rules))
    if not rules:
        _warn("no rules are installed")
    return 0


def format_rules_table(rules: Sequence) -> str:
    rows = [(r.id, r.checkov_id, r.severity.name.lower(), r.title) for r in rules]
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "".join(
        f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}\n" for row in rows
    )


# --- lsp -------------------------------------------------------------------------------


def lsp_command(args: argparse.Namespace) -> int:
    try:
        from kds_iac.lsp import server
    except ImportError as error:  # pygls is a dependency; a broken install should say so
        raise UsageError(f"the language server needs pygls: {error}") from None
    return server.main(_version())


# --- checkov-dir -----------------------------------------------------------------------


def checkov_checks_dir() -> str:
    """The shipped checkov checks folder, found without importing checkov or the checks."""
    return _package_folder("frontends", "checkov_checks")


def cfnlint_rules_dir() -> str:
    """The shipped cfn-lint rule pack folder, found without importing cfn-lint."""
    return _package_folder("frontends", "cfnlint_rules")


def _package_folder(*parts: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec("kds_iac")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("cannot locate the kds_iac package")
    package_dir = list(spec.submodule_search_locations)[0]
    return os.path.abspath(os.path.join(package_dir, *parts))


def cfnlint_dir_command() -> int:
    return _print_folder(cfnlint_rules_dir(), "the cfn-lint rule pack")


def checkov_dir_command() -> int:
    return _print_folder(checkov_checks_dir(), "the checkov checks folder")


def _print_folder(folder: str, what: str) -> int:
    if not os.path.isdir(folder):
        raise UsageError(f"{what} is missing from this installation: {folder}")
    sys.stdout.write(folder + "\n")
    return 0


# --- helpers ---------------------------------------------------------------------------


def _version() -> str:
    from kds_iac.output.common import tool_version

    return tool_version()


def _display_path(path: str, cwd: str) -> str:
    """``path`` relative to ``cwd`` when it lies below it (stable across machines), else as is."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, cwd)
    except ValueError:  # another drive on Windows
        return path
    return path if relative.startswith(os.pardir) else relative


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at devnull so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _stderr_line(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _warn(text: str) -> None:
    _stderr_line(f"{PROG}: warning: {text}")


def _error(text: str) -> None:
    _stderr_line(f"{PROG}: error: {text}")


def _internal_error(error: BaseException) -> None:
    """One line for a bug, whatever the input: no Python traceback unless ``KDS_IAC_DEBUG`` is set."""
    text = (str(error).splitlines() or [""])[0][:200]
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    if os.environ.get("KDS_IAC_DEBUG"):
        import traceback

        traceback.print_exception(type(error), error, error.__traceback__)
        hint = ""
    else:
        hint = "; set KDS_IAC_DEBUG=1 for the traceback"
    try:
        version = _version()
    except Exception:  # noqa: BLE001 - the version lookup must not hide the error
        version = "unknown version"
    _error(f"internal error: {detail} ({PROG} {version}; please report it{hint})")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
