"""JUnit XML for CI dashboards: a test suite per api-version, a test case per operation, a failure per finding.

Dashboards count test cases, so the mapping is: an operation the traffic exercised passes unless it has
error-level findings (then one `<failure>` per distinct finding, as the Jenkins/GitLab readers accept); an
operation of the same version that the traffic never called is a skipped case, which shows coverage at a
glance; warnings go to the case's `<system-out>`. Unusable inputs are one errored case. Probe verdicts are a
suite per api-version, a case per probed rule: lenient, stricter and error verdicts fail it, skipped skips it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from .common import UNMATCHED, one_line, percent, status_summary, verdict_counts, where
from .probes import FAILING

# characters XML 1.0 cannot carry at all, even escaped
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(text: Any) -> str:
    return _INVALID_XML.sub("\ufffd", text if isinstance(text, str) else str(text))


def _element(parent: ET.Element, tag: str, text: str | None = None, **attributes: Any) -> ET.Element:
    node = ET.SubElement(parent, tag, {k: _clean(v) for k, v in attributes.items()})
    if text is not None:
        node.text = _clean(text)
    return node


def render_junit(document: Mapping[str, Any]) -> str:
    root = ET.Element("testsuites", {"name": "pytest-batch"})
    by_operation: dict[tuple, list[Mapping[str, Any]]] = {}
    for finding in document["findings"]:
        by_operation.setdefault((finding["api_version"], finding["operation_id"]), []).append(finding)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    versions = {v["api_version"]: v for v in document["api_versions"]}
    rows_by_version: dict[str, list[Mapping[str, Any]]] = {}
    for row in document["operations"]:
        rows_by_version.setdefault(row["api_version"], []).append(row)
    for key in by_operation:  # findings without a row of their own (no operation matched) still need a case
        rows = rows_by_version.setdefault(key[0] or "?", [])
        if not any(row["operation_id"] == key[1] for row in rows):
            rows.append({"api_version": key[0] or "?", "operation_id": key[1], "method": None, "path": None,
                         "calls": 0, "status_codes": {"seen": {}}})  # fmt: skip
    for version_name, rows in rows_by_version.items():
        suite = _element(root, "testsuite", name=f"pytest-batch {version_name}")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        version = versions.get(version_name)
        if version is not None:
            properties = _element(suite, "properties")
            for name, value in (
                ("api_version", version_name),
                ("interactions", version["interactions"]),
                ("operation_coverage", percent(version["operations"]["coverage"])),
                ("status_code_coverage", percent(version["status_codes"]["coverage"])),
                ("constraint_coverage", percent((version["constraints"] or {}).get("coverage"))),
            ):
                _element(properties, "property", name=name, value=value)
        for row in rows:
            findings = by_operation.get((row["api_version"], row["operation_id"]), [])
            _case(suite, row, findings, counts)
        for name, value in counts.items():
            suite.set(name, str(value))
            totals[name] += value
    _probe_suites(root, document["probes"], totals)
    if document["unusable"]["count"]:
        suite = _element(root, "testsuite", name="pytest-batch inputs", tests=1, failures=0, errors=1, skipped=0)
        case = _element(suite, "testcase", classname="pytest-batch.inputs", name="unusable inputs")
        count = document["unusable"]["count"]
        _element(case, "error", "\n".join(document["unusable"]["messages"]), message=f"{count} unusable inputs",
                 type="unusable_input")  # fmt: skip
        totals["tests"] += 1
        totals["errors"] += 1
    for name, value in totals.items():
        root.set(name, str(value))
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(suite: ET.Element, row: Mapping[str, Any], findings: list[Mapping[str, Any]], counts: dict[str, int]) -> None:
    label = row["operation_id"] or UNMATCHED
    name = f"{label} {row['method']} {row['path']}" if row.get("path") else label
    case = _element(suite, "testcase", classname=f"pytest-batch.{row['api_version']}", name=name, time="0")
    counts["tests"] += 1
    failures = [f for f in findings if f["severity"] == "error" and f["count"]]
    if not row["calls"] and not findings:
        _element(case, "skipped", message="not exercised by the traffic")
        counts["skipped"] += 1
        return
    for finding in failures:
        _element(case, "failure", _detail(finding), message=_headline(finding), type=finding["check"])
    if failures:
        counts["failures"] += 1
    others = [f for f in findings if f not in failures]
    lines = [f"calls: {row['calls']}; status codes: {status_summary(row)}"]
    lines.extend(f"{f['severity']} {_headline(f)} ({f['id']})" for f in others)
    _element(case, "system-out", "\n".join(lines))


def _headline(finding: Mapping[str, Any]) -> str:
    allowed = f" (+{finding['allowed']} allowed)" if finding["allowed"] else ""
    return one_line(f"{finding['count']}x{allowed} {finding['check']} at {where(finding)}: {finding['message']}", 500)


def _detail(finding: Mapping[str, Any]) -> str:
    return "\n".join(
        [
            (
                f"{finding['id']}: {finding['severity']} {finding['check']} {finding['operation_id'] or UNMATCHED} "
                f"({finding['api_version']})"
            ),
            f"where: {where(finding)}",
            f"message: {finding['message']}",
            f"expected: {finding['expected']!r}",
            f"actual: {finding['actual']!r}",
            f"spec: {finding['schema_pointer'] or '-'}" + (f" (rule {finding['rule']})" if finding["rule"] else ""),
            f"occurrences: {finding['count']} (+{finding['allowed']} allowed)",
            f"first: {finding['first_source'] or '-'}"
            + (f" in {finding['first_test']}" if finding["first_test"] else ""),
        ]
    )


def _probe_suites(root: ET.Element, probes: Mapping[str, Any], totals: dict[str, int]) -> None:
    by_version: dict[str, list[Mapping[str, Any]]] = {}
    for row in probes["rules"]:
        by_version.setdefault(row["api_version"], []).append(row)
    for version in probes["api_versions"]:
        name = version["api_version"]
        suite = _element(root, "testsuite", name=f"pytest-batch probe {name}")
        properties = _element(suite, "properties")
        _element(properties, "property", name="api_version", value=name)
        _element(properties, "property", name="verdicts", value=verdict_counts(version))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for row in by_version.get(name, ()):
            label = " ".join(part for part in (row["rule"], row["operation_id"], row["target"]) if part)
            case = _element(suite, "testcase", classname=f"pytest-batch.probe.{name}", name=label, time="0")
            counts["tests"] += 1
            headline = one_line(f"{row['verdict']}: {row['detail'] or '-'}", 500)
            if row["verdict"] in FAILING:
                _element(case, "failure", _probe_detail(row), message=headline, type=row["verdict"])
                counts["failures"] += 1
            elif row["verdict"] == "skipped":
                _element(case, "skipped", message=headline)
                counts["skipped"] += 1
            else:
                _element(case, "system-out", _probe_detail(row))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value


def _probe_detail(row: Mapping[str, Any]) -> str:
    valid = row["valid"] or {}
    invalid = "; ".join(f"{x.get('label') or '-'} -> {x['status']} {x['code'] or ''}".rstrip() for x in row["invalid"])
    return "\n".join(
        [
            f"{row['verdict']} {row['rule']} ({row['kind'] or '-'}) {row['operation_id'] or '-'} {row['target'] or ''}",
            f"detail: {row['detail'] or '-'}",
            f"valid request -> {valid.get('status')} {valid.get('code') or ''}".rstrip(),
            f"invalid requests: {invalid or '-'}",
            f"spec: {row['source_pointer'] or '-'}",
            f"probes: {row['probes']} ({verdict_counts(row)}); services: {', '.join(row['services']) or '-'}",
            f"shown: {row['first_source'] or '-'}",
        ]
    )
