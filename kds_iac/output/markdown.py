"""Markdown: a compact report for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

Findings first (one table), then one table per stream: who may write, read, administer it
or use its key, and what else reaches it. Built from the access map, so ``kds-iac scan
--format markdown`` and ``kds-iac map --format markdown`` print the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kds_iac.access_map import LEVELS

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.engine import ScanResult

LEVEL_TITLES = {"write": "write", "read": "read", "administer": "administer", "key_use": "key use"}
_SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
# GitHub refuses a job summary over 1 MiB: streams past this size are counted, not listed
BUDGET = 900_000


def render(result: "ScanResult", context=None) -> str:
    from kds_iac.access_map import build

    return render_map(build(result), context)


def _cell(text: Any) -> str:
    """Text safe inside a table cell: no pipes, no line breaks, no HTML."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def render_map(access: dict[str, Any], context=None) -> str:
    findings = access["findings"]
    streams = access["streams"]
    lines = ["## kds-iac: Kinesis access map", ""]
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in _SEVERITY_ORDER}
    shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"
    lines.append(f"Scope: `{', '.join(access['scope']) or '.'}` · {len(streams)} streams · findings: {shown}")
    lines.append(f"Audit: {access['audit'] or 'no CloudTrail trail in scope'}")
    lines.append("")
    if findings:
        lines += ["### Findings", "", "| Severity | Rule | Location | Resource | Message |", "|---|---|---|---|---|"]
        used = 0
        ordered = sorted(findings, key=lambda f: (_SEVERITY_ORDER.index(f["severity"]), f["file"], f["line"]))
        for index, f in enumerate(ordered):
            if used > BUDGET * 2 // 3:  # most severe first: what is left out is the least severe
                lines.append(f"| | | | | *{len(ordered) - index} more findings, less severe, are not listed here* |")
                break
            rule = f"[{f['rule_id']}]({f['help_uri']})" if f.get("help_uri") else f["rule_id"]
            used += len(lines[-1]) + 1
            lines.append(
                f"| {f['severity']} | {rule} | `{_cell(f['file'])}:{f['line']}` | `{_cell(f['resource'])}` | {_cell(f['message'])} |"
            )
        lines.append("")
    every = access.get("every_stream") or {}
    if any(every.values()):
        lines += ["### Access to every stream", "", "| Access | Who | Actions | Granted by | Credentials |", "|---|---|---|---|---|"]
        lines += _access_rows(every)
        lines.append("")
    size = sum(len(line) + 1 for line in lines)
    for index, stream in enumerate(streams):
        table = _stream(stream, bool(any(every.values())))
        size += sum(len(line) + 1 for line in table)
        if size > BUDGET:
            lines += [f"*{len(streams) - index} more streams are not listed here (the summary would pass GitHub's 1 MiB limit): "
                      "see `kds-iac map --format html` or `--format json`.*", ""]
            break
        lines += table
    return "\n".join(lines).rstrip() + "\n"


def _access_rows(levels: dict[str, list]) -> list[str]:
    out = []
    for level in LEVELS:
        for entry in levels[level]:
            grants = "; ".join(
                f"{_cell(g['policy'])}{' (' + _cell(g['statement']) + ')' if g['statement'] else ''} `{_cell(g['file'])}:{g['line']}`"
                for g in entry["grants"]
            )
            creds = ", ".join(f"{c['how']} `{_cell(c['address'])}`" for c in entry["credentials"]) or "—"
            maybe = "" if entry["certain"] else " (if an unknown value covers it)"
            out.append(
                f"| {LEVEL_TITLES[level]}{maybe} | `{_cell(entry['principal'])}` ({entry['kind']}) | "
                f"{', '.join(a.split(':', 1)[1] if level != 'key_use' else a for a in entry['actions'])} | {grants} | {creds} |"
            )
    return out


def _stream(stream: dict[str, Any], every: bool = False) -> list[str]:
    enc = stream["encryption"]
    key = enc["key"]
    if enc["state"] == "kms" and key:
        what = key.get("address") or key.get("reference") or key["kind"]
        encryption = f"KMS, {key['kind'].replace('_', ' ')} key `{_cell(what)}`"
        if key["kind"] == "customer_managed":
            encryption += f", rotation {'on' if key['rotation'] else 'off' if key['rotation'] is False else 'unknown'}"
            if key["policy"].get("public"):
                encryption += ", **key policy open to anyone**"
    elif enc["state"] == "none":
        encryption = "**not encrypted**"
    else:
        encryption = f"unknown ({_cell((enc.get('unknown') or {}).get('decided_by') or 'decided at deployment')})"
    ids = sorted({m["rule_id"] for m in stream["findings"]})
    out = [
        f"### `{_cell(stream['address'])}` ({_cell(stream['file'])}:{stream['line']})",
        "",
        f"Encryption: {encryption}" + (f" · findings: {', '.join(ids)}" if ids else ""),
        "",
        "| Access | Who | Actions | Granted by | Credentials |",
        "|---|---|---|---|---|",
    ]
    own = _access_rows(stream["access"])
    out += own
    rows = len(own)
    if every:
        out.append("| and | the principals with access to every stream (above) | | | |")
    for grant in stream["external_grants"]:
        who = ", ".join(
            "anyone" if g["kind"] == "anyone" else ("own account " if g["kind"] == "own_account" else "") + (g.get("account") or g["principal"])
            for g in grant["grantees"]
        )
        pinned = " (caller pinned)" if grant["caller_pinned"] else ""
        out.append(
            f"| {grant['policy'].replace('_', ' ')}{pinned} | {_cell(who)} | {', '.join(grant['actions'])} | "
            f"`{_cell(grant['address'])}` `{_cell(grant['file'])}:{grant['line']}` | — |"
        )
        rows += 1
    for dest in stream["destinations"]:
        kms = "KMS" if dest["kms"] else "no KMS" if dest["kms"] is False else "unknown"
        out.append(
            f"| records go to ({_cell(dest['kind'].replace('_', ' '))}) | `{_cell(dest['address'] or '?')}` | {_cell(dest['role'])}, {kms} | "
            f"via `{_cell(dest['via'])}` | — |"
        )
        rows += 1
    audit = stream["audit"]
    trails = [f"`{t['address']}`" + (" (data events)" if t["data_events"] else "") for t in audit["trails"]]
    if audit["organization_trail"]:
        trails.append(f"organization trail {audit['organization_trail']}")
    out.append(f"| audited by | {_cell(', '.join(trails)) if trails else '**nothing**'} | | | |")
    if rows == 0:
        out.insert(-1, "| — | no principal, policy or destination of the scope reaches it | | | |")
    out.append("")
    return out
