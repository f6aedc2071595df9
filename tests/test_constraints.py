"""The documented-constraints overlay: its data, its triage, and the checker on hand-built instances.

Data tests hold the overlay to the bundles (every target and every property a
rule names must exist in that version, so a typo fails) and to the spec (every
rule's source sentence exists and is triaged as encoded). The triage test
re-runs the sentence scan, so a new or missed constraint sentence fails. The
checker tests give every 2025-06-01 rule one valid and one invalid instance:
the invalid one must be flagged with exactly that rule, the valid one with none.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pytest_batch.constraints import (
    AGGREGATE_KINDS,
    KINDS,
    OBJECT_KINDS,
    Overlay,
    check_constraints,
    duration_seconds,
    load_overlay,
    overlay_from_data,
)
from pytest_batch.constraints_build import (
    CURRENT,
    OLDER,
    RENAMED_2018,
    build_overlay,
    dumps_overlay,
    load_bundles,
    scan_descriptions,
    sentences,
)
from pytest_batch.errors import BatchContractError, SpecError
from pytest_batch.spec import SpecLibrary

REPO = Path(__file__).resolve().parents[1]
TRIAGE = REPO / "docs" / "constraints-triage.md"
STATUSES = ("encoded", "duplicate", "not machine-checkable", "not a constraint")


@pytest.fixture(scope="module")
def overlay() -> Overlay:
    return load_overlay()


@pytest.fixture(scope="module")
def bundles() -> dict[str, Any]:
    return load_bundles()


@pytest.fixture(scope="module")
def library() -> SpecLibrary:
    return SpecLibrary()


def _swagger(specs_dir: Path, version: str) -> dict[str, Any]:
    return json.loads((specs_dir / version / "BatchService.json").read_text(encoding="utf-8-sig"))


def _at_pointer(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


# ---------------------------------------------------------------------------
# the overlay as data


def test_overlay_loads_with_enough_rules_for_both_versions(overlay):
    current, older = overlay.rules_for(CURRENT), overlay.rules_for(OLDER)
    assert len(current) >= 80, f"only {len(current)} rules for {CURRENT}"
    assert len(older) >= 40, f"only {len(older)} rules mapped onto {OLDER}"
    assert {rule.kind for rule in overlay.rules} <= KINDS
    assert len({rule.id for rule in overlay.rules}) == len(overlay.rules)
    for rule in overlay.rules:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id), rule.id
        assert rule.summary and "\n" not in rule.summary and len(rule.summary) <= 120, rule.id
        assert rule.source.pointer.startswith("/") and rule.source.sentence >= 1, rule.id
        assert rule.targets, f"{rule.id} applies nowhere"


def test_committed_overlay_is_current(bundles):
    """`schemas/constraints.json` is exactly what the builder makes (run `python -m pytest_batch.constraints_build`)."""
    committed = (REPO / "schemas" / "constraints.json").read_text(encoding="utf-8")
    assert committed == dumps_overlay(build_overlay(bundles)), "stale: python -m pytest_batch.constraints_build"


def test_a_malformed_overlay_fails_at_load_time():
    good = {"id": "x", "kind": "length", "value": {"max": 1}, "summary": "s",
            "source": {"api_version": CURRENT, "pointer": "/x", "sentence": 1},
            "targets": {CURRENT: [{"definition": "D", "path": "p"}]}}
    assert overlay_from_data({"format": "pytest-batch-constraints/1", "rules": [good]}).rule("x").kind == "length"
    with pytest.raises(SpecError, match="not a pytest-batch-constraints/1 overlay"):
        overlay_from_data({"rules": []})
    with pytest.raises(SpecError, match="appears twice"):
        overlay_from_data({"format": "pytest-batch-constraints/1", "rules": [good, good]})
    with pytest.raises(SpecError, match="unknown kind 'size'"):
        overlay_from_data({"format": "pytest-batch-constraints/1", "rules": [{**good, "kind": "size"}]})
    with pytest.raises(SpecError, match="malformed rule 'x'"):
        overlay_from_data({"format": "pytest-batch-constraints/1", "rules": [{**good, "source": {}}]})


def _properties(definitions: dict, schema: Any, seen: frozenset = frozenset()) -> dict[str, Any]:
    """Properties a schema allows, following $ref, allOf and nullable anyOf/oneOf."""
    if not isinstance(schema, dict):
        return {}
    out: dict[str, Any] = {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        out.update(_properties(definitions, definitions.get(ref.rsplit("/", 1)[-1]), seen | {ref}))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or ():
            out.update(_properties(definitions, part, seen))
    out.update(schema.get("properties") or {})
    return out


def _items(definitions: dict, schema: Any) -> Any:
    if not isinstance(schema, dict):
        return None
    if "items" in schema:
        return schema["items"]
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _items(definitions, definitions.get(ref.rsplit("/", 1)[-1]))
    for part in (*schema.get("allOf", ()), *schema.get("anyOf", ())):
        found = _items(definitions, part)
        if found is not None:
            return found
    return None


def _schema_at(definitions: dict, schema: Any, path: str | tuple[str, ...]) -> Any:
    tokens = tuple(path.split("/")) if isinstance(path, str) and path else tuple(path or ())
    for token in tokens:
        schema = _items(definitions, schema) if token == "*" else _properties(definitions, schema).get(token)
        if schema is None:
            return None
    return schema


def _named_paths(kind: str, value: dict) -> tuple[list[str], list[str]]:
    """(paths relative to the selected object, paths relative to the target definition) a rule's value names."""
    when = [c["property"] for c in value.get("when", ())]
    if kind in OBJECT_KINDS:
        names = [p for group in value.get("groups", ()) for p in group]
        names += list(value.get("properties", ())) + list(value.get("any_of", ())) + list(value.get("counts", ()))
        names += [value[k] for k in ("property", "start", "end", "lesser", "greater", "items") if k in value]
        return names + when, []
    if kind == "no_overlap" and "start" in value:
        return [value["start"], value["end"]], when
    return [], when


def test_every_target_and_named_property_exists_in_its_version(overlay, bundles):
    """A rule names definitions, property paths, operations and parameters as they are spelt in each version."""
    problems = []
    for rule in overlay.rules:
        for version, targets in rule.targets.items():
            bundle = bundles[version]
            definitions = bundle["definitions"]
            for target in targets:
                if target.operation is not None:
                    op = bundle["operations"].get(target.operation)
                    if op is None or target.parameter not in {p["name"] for p in op["parameters"]}:
                        problems.append(f"{rule.id} [{version}] {target.label}: no such operation parameter")
                    continue
                root = {"$ref": f"#/definitions/{target.definition}"}
                if target.definition not in definitions:
                    problems.append(f"{rule.id} [{version}] {target.definition}: no such definition")
                    continue
                selected = _schema_at(definitions, root, target.path)
                if selected is None:
                    problems.append(f"{rule.id} [{version}] {target.label}: no such property path")
                    continue
                on_selected, on_root = _named_paths(rule.kind, dict(rule.value))
                problems += [f"{rule.id} [{version}] {target.label}: names missing {name!r}"
                             for name in on_selected if _schema_at(definitions, selected, name) is None]
                problems += [f"{rule.id} [{version}] {target.definition}: condition names missing {name!r}"
                             for name in on_root if _schema_at(definitions, root, name) is None]
    assert not problems, "\n".join(problems)


def test_rules_that_hold_in_2018_use_the_old_names(overlay):
    """The rename table is what maps rules: no 2018 target may keep a name that only exists in 2025-06-01."""
    renamed = set(RENAMED_2018) - set(RENAMED_2018.values())
    stale = [(rule.id, t.definition) for rule in overlay.rules for t in rule.targets_for(OLDER)
             if t.definition in renamed]
    assert not stale


def test_every_rule_source_is_a_real_sentence_and_no_summary_copies_it(overlay, specs_dir):
    documents = {version: _swagger(specs_dir, version) for version in (CURRENT, OLDER)}
    for rule in overlay.rules:
        text = _at_pointer(documents[rule.source.api_version], rule.source.pointer)
        assert isinstance(text, str), f"{rule.id}: {rule.source.pointer} is not a description"
        parts = sentences(text)
        assert rule.source.sentence <= len(parts), f"{rule.id}: sentence {rule.source.sentence} of {len(parts)}"
        assert rule.summary.lower().rstrip(".") not in text.lower(), f"{rule.id}: the summary copies the spec"


# ---------------------------------------------------------------------------
# the triage


def _triage_rows() -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in TRIAGE.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\| `(/[^`]+#\d+)` \| ([a-z -]+) \| (.*) \|", line)
        if m:
            assert m.group(1) not in rows, f"{m.group(1)} is listed twice"
            rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def test_every_constraint_sentence_is_triaged(overlay, specs_dir):
    hits = {hit.key: hit.text for hit in scan_descriptions(_swagger(specs_dir, CURRENT))}
    rows = _triage_rows()
    missing = sorted(set(hits) - set(rows))
    stale = sorted(set(rows) - set(hits))
    assert not missing, f"{len(missing)} constraint sentences are not triaged, e.g. {missing[:5]}"
    assert not stale, f"{len(stale)} triage rows match no sentence any more, e.g. {stale[:5]}"

    ids = {rule.id for rule in overlay.rules}
    encoded_at: dict[str, set[str]] = {}
    for key, (status, detail) in rows.items():
        assert status in STATUSES, f"{key}: unknown status {status!r}"
        refs = re.findall(r"`([^`]+)`", detail)
        if status == "encoded":
            assert refs and all(r in ids for r in refs), f"{key}: encoded as unknown rules {refs}"
            for r in refs:
                encoded_at.setdefault(r, set()).add(key)
        elif status == "duplicate":
            assert refs, f"{key}: a duplicate names what it repeats"
            for ref in refs:
                if ref.startswith("/"):
                    assert ref in rows and rows[ref][0] != "duplicate", f"{key}: {ref} is no original"
                    assert hits[ref] == hits[key], f"{key} does not repeat {ref} word for word"
                else:
                    assert ref in ids, f"{key}: duplicate of unknown rule {ref}"
        else:
            assert detail.strip() and not refs, f"{key}: say why, in words"
    for rule in overlay.rules:
        if rule.source.api_version == CURRENT:
            key = f"{rule.source.pointer}#{rule.source.sentence}"
            assert encoded_at.get(rule.id) == {key}, f"{rule.id}: its source {key} must be its one 'encoded' row"


def test_triage_counts_match_the_rows():
    counts = Counter(status for status, _ in _triage_rows().values())
    expected = (f"Counts: {sum(counts.values())} sentences; encoded {counts['encoded']}, "
                f"duplicate {counts['duplicate']}, not machine-checkable {counts['not machine-checkable']}, "
                f"not a constraint {counts['not a constraint']}.")
    assert expected in TRIAGE.read_text(encoding="utf-8"), f"update the counts line to: {expected}"


def test_the_scan_splits_and_keeps_what_it_should():
    doc = {"definitions": {"D": {"properties": {"p": {"description": "Free text.<br /> It must be   short. Ok."}}}}}
    assert sentences("A b. C d? e. (F) g.") == ["A b.", "C d? e.", "(F) g."]
    assert [(h.key, h.text) for h in scan_descriptions(doc)] == [
        ("/definitions/D/properties/p/description#2", "It must be short.")
    ]


# ---------------------------------------------------------------------------
# the checker, one valid and one invalid instance per rule

ARM = "/subscriptions/s1/resourceGroups/g1/providers/"
APP = ARM + "Microsoft.Batch/batchAccounts/acct/applications/"
GALLERY = ARM + "Microsoft.Compute/galleries/gal/"
SUBNET = ARM + "Microsoft.Network/virtualNetworks/vnet/subnets/default"
PUBLIC_IP = ARM + "Microsoft.Network/publicIPAddresses/ip"
KEY_URL = "https://vault1.vault.azure.net/keys/disk-key/0123456789abcdef0123456789abcdef"
SAS_URL = "https://acct.blob.core.windows.net/out?sv=2022-11-02&sp=rw&sig=c2lnbmF0dXJl"
GUID = "9c4d50ee-2d56-4cd3-8152-34347dc9f2b0"
VMC = {"imageReference": {"publisher": "canonical", "offer": "ubuntu-24_04-lts", "sku": "server"},
       "nodeAgentSKUId": "batch.node.ubuntu 24.04"}
POOL = {"id": "pool-1", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VMC, "targetDedicatedNodes": 2}
AUTOPOOL = {"id": "pool-2", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VMC, "enableAutoScale": True,
            "autoScaleFormula": "$TargetDedicatedNodes = 1;"}
JOB = {"id": "job-1", "poolInfo": {"poolId": "pool-1"}}
SPEC = {"poolInfo": {"poolId": "pool-1"}}
SCHEDULE = {"id": "sched-1", "schedule": {"recurrenceInterval": "PT1H"}, "jobSpecification": SPEC}
TASK = {"id": "task-1", "commandLine": "/bin/true"}
CMD = {"commandLine": "/bin/true"}
NSG = {"priority": 150, "access": "allow", "sourceAddressPrefix": "*"}
CONFIDENTIAL = {**VMC, "securityProfile": {"securityType": "confidentialVM"},
                "osDisk": {"managedDisk": {"securityProfile": {"securityEncryptionType": "VMGuestStateOnly"}}}}


MULTI = {"multiInstanceSettings": {"coordinationCommandLine": "x", "numberOfInstances": 2}}


def disk(encryption):
    return {"lun": 0, "diskSizeGB": 1, "managedDisk": {"securityProfile": {"securityEncryptionType": encryption}}}


def nat(name="ssh", backend=2222, start=15000, size=100, **extra):
    return {"name": name, "protocol": "tcp", "backendPort": backend, "frontendPortRangeStart": start,
            "frontendPortRangeEnd": start + size - 1, **extra}


def nats(n, **extra):
    return [nat(f"nat{i}", 1000 + i, 20000 + 100 * i, **extra) for i in range(n)]


def rules(n, first=150):
    return [{**NSG, "priority": first + i} for i in range(n)]


def B(instance):
    return {"instance": instance}


def P(**kw):
    return {"instance": {**POOL, **kw}}


# (rule id, definition or operation, valid request, invalid request)
CASES: list[tuple[str, str, dict, dict]] = [
    ("job-id-length", "BatchJobCreateOptions", B({**JOB, "id": "j" * 64}), B({**JOB, "id": "j" * 65})),
    ("job-id-charset", "BatchJobCreateOptions", B({**JOB, "id": "Job_1-a"}), B({**JOB, "id": "job.1"})),
    ("job-schedule-id-length", "BatchJobScheduleCreateOptions", B({**SCHEDULE, "id": "s" * 64}),
     B({**SCHEDULE, "id": "s" * 65})),
    ("job-schedule-id-charset", "BatchJobScheduleCreateOptions", B(SCHEDULE), B({**SCHEDULE, "id": "nightly run"})),
    ("pool-id-length", "BatchPoolCreateOptions", P(id="p" * 64), P(id="p" * 65)),
    ("pool-id-charset", "BatchPoolCreateOptions", P(id="p-1_x"), P(id="pool/1")),
    ("task-id-length", "BatchTaskCreateOptions", B({**TASK, "id": "t" * 64}), B({**TASK, "id": "t" * 65})),
    ("task-id-charset", "BatchTaskCreateOptions", B(TASK), B({**TASK, "id": "täsk"})),
    ("job-manager-task-id-length", "BatchJobManagerTask", B({**CMD, "id": "m" * 64}), B({**CMD, "id": "m" * 65})),
    ("job-manager-task-id-charset", "BatchJobManagerTaskUpdate", B({"id": "jm-1"}), B({"id": "jm:1"})),
    ("job-preparation-task-id-length", "BatchJobPreparationTask", B({**CMD, "id": "p" * 64}),
     B({**CMD, "id": "p" * 65})),
    ("job-preparation-task-id-charset", "BatchJobPreparationTask", B({**CMD, "id": "prep"}), B({**CMD, "id": "pr ep"})),
    ("job-release-task-id-length", "BatchJobReleaseTask", B({**CMD, "id": "r" * 64}), B({**CMD, "id": "r" * 65})),
    ("job-release-task-id-charset", "BatchJobReleaseTask", B({**CMD, "id": "rel"}), B({**CMD, "id": "rel!"})),
    ("job-display-name-length", "BatchJobCreateOptions", B({**JOB, "displayName": "é" * 1024}),
     B({**JOB, "displayName": "é" * 1025})),
    ("job-schedule-display-name-length", "BatchJobScheduleCreateOptions", B({**SCHEDULE, "displayName": "d" * 1024}),
     B({**SCHEDULE, "displayName": "d" * 1025})),
    ("pool-display-name-length", "BatchPoolCreateOptions", P(displayName="d" * 1024), P(displayName="d" * 1025)),
    ("task-display-name-length", "BatchTaskCreateOptions", B({**TASK, "displayName": "d" * 1024}),
     B({**TASK, "displayName": "d" * 1025})),
    ("job-manager-task-display-name-length", "BatchJobManagerTask", B({**CMD, "id": "m", "displayName": "d" * 1024}),
     B({**CMD, "id": "m", "displayName": "d" * 1025})),
    ("job-spec-display-name-length", "BatchJobSpecification", B({**SPEC, "displayName": "d" * 1024}),
     B({**SPEC, "displayName": "d" * 1025})),
    ("auto-pool-id-prefix-length", "BatchAutoPoolSpecification",
     B({"poolLifetimeOption": "job", "autoPoolIdPrefix": "a" * 20}),
     B({"poolLifetimeOption": "job", "autoPoolIdPrefix": "a" * 21})),
    ("user-account-name-length", "UserAccount", B({"name": "u" * 20, "password": "x"}),
     B({"name": "u" * 21, "password": "x"})),
    ("inbound-nat-pool-name-length", "BatchInboundNatPool", B(nat("a" * 77)), B(nat("a" * 78))),
    ("inbound-nat-pool-name-charset", "BatchInboundNatPool", B(nat("ssh.pool_1-x")), B(nat("ssh pool"))),
    ("inbound-nat-pool-name-start", "BatchInboundNatPool", B(nat("1-ssh")), B(nat("-ssh"))),
    ("inbound-nat-pool-name-end", "BatchInboundNatPool", B(nat("ssh_")), B(nat("ssh."))),
    ("inbound-nat-pool-name-unique", "BatchPoolEndpointConfiguration",
     B({"inboundNATPools": [nat("a"), nat("b", 2223, 16000)]}),
     B({"inboundNATPools": [nat("a"), nat("a", 2223, 16000)]})),
    ("inbound-nat-backend-port-range", "BatchInboundNatPool", B(nat(backend=29875)), B(nat(backend=29877))),
    ("inbound-nat-backend-port-unique", "BatchPoolEndpointConfiguration",
     B({"inboundNATPools": [nat("a", 2222), nat("b", 2223, 16000)]}),
     B({"inboundNATPools": [nat("a", 2222), nat("b", 2222, 16000)]})),
    ("inbound-nat-frontend-start-range", "BatchInboundNatPool", B(nat(start=49000)), B(nat(start=50010, size=6000))),
    ("inbound-nat-frontend-end-range", "BatchInboundNatPool", B(nat(start=49000)), B(nat(start=49000, size=1051))),
    ("inbound-nat-frontend-range-size", "BatchInboundNatPool", B(nat(size=40)), B(nat(size=39))),
    ("inbound-nat-frontend-ranges-disjoint", "BatchPoolEndpointConfiguration",
     B({"inboundNATPools": [nat("a", 2222, 1000), nat("b", 2223, 1100)]}),
     B({"inboundNATPools": [nat("a", 2222, 1000), nat("b", 2223, 1050)]})),
    ("pool-inbound-nat-pool-count", "BatchPoolEndpointConfiguration", B({"inboundNATPools": nats(5)}),
     B({"inboundNATPools": nats(6)})),
    ("pool-nsg-rule-total", "BatchPoolEndpointConfiguration",
     B({"inboundNATPools": [nat("a", networkSecurityGroupRules=rules(12)),
                            nat("b", 2223, 16000, networkSecurityGroupRules=rules(13, 200))]}),
     B({"inboundNATPools": [nat("a", networkSecurityGroupRules=rules(13)),
                            nat("b", 2223, 16000, networkSecurityGroupRules=rules(13, 200))]})),
    ("nsg-rule-priority-range", "NetworkSecurityGroupRule", B({**NSG, "priority": 4096}), B({**NSG, "priority": 149})),
    ("nsg-rule-priority-unique", "BatchPoolEndpointConfiguration",
     B({"inboundNATPools": [nat("a", networkSecurityGroupRules=rules(2)),
                            nat("b", 2223, 16000, networkSecurityGroupRules=rules(2, 152))]}),
     B({"inboundNATPools": [nat("a", networkSecurityGroupRules=rules(2)),
                            nat("b", 2223, 16000, networkSecurityGroupRules=rules(2, 151))]})),
    ("nsg-source-address-prefix-form", "NetworkSecurityGroupRule", B({**NSG, "sourceAddressPrefix": "10.0.0.0/24"}),
     B({**NSG, "sourceAddressPrefix": "10.0.0.1 10.0.0.2"})),
    ("nsg-source-port-form", "NetworkSecurityGroupRule", B({**NSG, "sourcePortRanges": ["22", "100-200"]}),
     B({**NSG, "sourcePortRanges": ["22,23"]})),
    ("nsg-source-port-bounds", "NetworkSecurityGroupRule", B({**NSG, "sourcePortRanges": ["65535"]}),
     B({**NSG, "sourcePortRanges": ["65000-65536"]})),
    ("nsg-source-port-ranges-disjoint", "NetworkSecurityGroupRule", B({**NSG, "sourcePortRanges": ["22", "100-200"]}),
     B({**NSG, "sourcePortRanges": ["100-200", "150"]})),
    ("job-subnet-id-form", "BatchJobNetworkConfiguration", B({"subnetId": SUBNET}), B({"subnetId": "default"})),
    ("pool-subnet-id-form", "NetworkConfiguration", B({"subnetId": SUBNET.lower()}), B({"subnetId": SUBNET + "/x"})),
    ("public-ip-id-form", "BatchPublicIpAddressConfiguration", B({"ipAddressIds": [PUBLIC_IP]}),
     B({"ipAddressIds": [PUBLIC_IP, "ip2"]})),
    ("vm-image-id-form", "BatchVmImageReference", B({"virtualMachineImageId": GALLERY + "images/img/versions/1.0.0"}),
     B({"virtualMachineImageId": ARM + "Microsoft.Compute/images/img"})),
    ("pool-application-package-id-form", "BatchPoolCreateOptions",
     P(applicationPackageReferences=[{"applicationId": APP + "blender"}]),
     P(applicationPackageReferences=[{"applicationId": "blender"}])),
    ("invm-access-profile-id-form", "HostEndpointSettings",
     B({"mode": "Audit", "inVMAccessControlProfileReferenceId": GALLERY + "inVMAccessControlProfiles/p/versions/1"}),
     B({"mode": "Audit", "inVMAccessControlProfileReferenceId": GALLERY + "inVMAccessControlProfiles/p"})),
    ("service-artifact-id-form", "ServiceArtifactReference",
     B({"id": GALLERY + "serviceArtifacts/sa/vmArtifactsProfiles/vp"}), B({"id": "sa"})),
    ("client-request-id-guid", "Jobs_ListJobs", {"headers": {"client-request-id": GUID.upper()}},
     {"headers": {"Client-Request-Id": "{" + GUID + "}"}}),
    ("ocp-range-form", "Tasks_GetTaskFile", {"headers": {"ocp-range": "bytes=0-1023"}},
     {"headers": {"ocp-range": "0-1023"}}),
    ("azure-file-url-form", "AzureFileShareConfiguration",
     B({"accountName": "a", "azureFileUrl": "https://a.file.core.windows.net/share", "accountKey": "k",
        "relativeMountPath": "m"}),
     B({"accountName": "a", "azureFileUrl": "https://a.blob.core.windows.net/share", "accountKey": "k",
        "relativeMountPath": "m"})),
    ("disk-cmk-key-url-versioned", "DiskCustomerManagedKey", B({"keyUrl": KEY_URL}),
     B({"keyUrl": "https://vault1.vault.azure.net/keys/disk-key"})),
    ("output-container-url-needs-sas", "OutputFileBlobContainerDestination", B({"containerUrl": SAS_URL}),
     B({"containerUrl": "https://acct.blob.core.windows.net/out?sv=2022-11-02"})),
    ("upload-logs-container-url-needs-sas", "UploadBatchServiceLogsOptions",
     B({"containerUrl": SAS_URL, "startTime": "2025-01-01T00:00:00Z"}),
     B({"containerUrl": "https://acct.blob.core.windows.net/logs", "startTime": "2025-01-01T00:00:00Z"})),
    ("resource-file-path-stays-inside", "ResourceFile", B({"httpUrl": "https://x/y", "filePath": "a..b/in.txt"}),
     B({"httpUrl": "https://x/y", "filePath": "data/../../etc/passwd"})),
    ("auth-token-access-values", "AuthenticationTokenSettings", B({"access": ["Job"]}), B({"access": ["pool"]})),
    ("job-priority-range", "BatchJobCreateOptions", B({**JOB, "priority": 1000}), B({**JOB, "priority": 1001})),
    ("job-spec-priority-range", "BatchJobSpecification", B({**SPEC, "priority": -1000}),
     B({**SPEC, "priority": -1001})),
    ("job-max-parallel-tasks-range", "BatchJobUpdateOptions", B({"maxParallelTasks": -1}), B({"maxParallelTasks": 0})),
    ("job-spec-max-parallel-tasks-range", "BatchJobSpecification", B({**SPEC, "maxParallelTasks": 4}),
     B({**SPEC, "maxParallelTasks": -2})),
    ("job-max-task-retry-count-range", "BatchJobConstraints", B({"maxTaskRetryCount": -1}),
     B({"maxTaskRetryCount": -2})),
    ("task-max-task-retry-count-range", "BatchTaskConstraints", B({"maxTaskRetryCount": 0}),
     B({"maxTaskRetryCount": -3})),
    ("start-task-max-task-retry-count-range", "BatchStartTask", B({**CMD, "maxTaskRetryCount": 3}),
     B({**CMD, "maxTaskRetryCount": -5})),
    ("data-disk-lun-range", "DataDisk", B({"lun": 63, "diskSizeGB": 10}), B({"lun": 64, "diskSizeGB": 10})),
    ("data-disk-lun-unique", "VirtualMachineConfiguration",
     B({**VMC, "dataDisks": [{"lun": 0, "diskSizeGB": 1}, {"lun": 1, "diskSizeGB": 1}]}),
     B({**VMC, "dataDisks": [{"lun": 1, "diskSizeGB": 1}, {"lun": 1, "diskSizeGB": 1}]})),
    ("pool-task-slots-per-node-max", "BatchPoolCreateOptions", P(taskSlotsPerNode=256), P(taskSlotsPerNode=257)),
    ("rolling-max-batch-instance-percent-range", "RollingUpgradePolicy",
     B({"maxBatchInstancePercent": 5, "maxUnhealthyInstancePercent": 20}),
     B({"maxBatchInstancePercent": 4, "maxUnhealthyInstancePercent": 20})),
    ("rolling-max-unhealthy-instance-percent-range", "RollingUpgradePolicy",
     B({"maxBatchInstancePercent": 20, "maxUnhealthyInstancePercent": 100}),
     B({"maxBatchInstancePercent": 20, "maxUnhealthyInstancePercent": 101})),
    ("rolling-max-unhealthy-upgraded-percent-range", "RollingUpgradePolicy",
     B({"maxUnhealthyUpgradedInstancePercent": 0}), B({"maxUnhealthyUpgradedInstancePercent": 101})),
    ("rolling-batch-not-above-unhealthy", "RollingUpgradePolicy",
     B({"maxBatchInstancePercent": 40, "maxUnhealthyInstancePercent": 40}),
     B({"maxBatchInstancePercent": 50, "maxUnhealthyInstancePercent": 40})),
    ("exit-code-range-ordered", "ExitCodeRangeMapping", B({"start": 5, "end": 5, "exitOptions": {}}),
     B({"start": 6, "end": 5, "exitOptions": {}})),
    ("task-id-range-ordered", "BatchTaskIdRange", B({"start": 1, "end": 9}), B({"start": 9, "end": 1})),
    ("maxresults-range", "Jobs_ListJobs", {"query": {"maxresults": "1000"}}, {"query": {"MaxResults": "0"}}),
    ("remove-nodes-list-size", "BatchNodeRemoveOptions", B({"nodeList": ["n"] * 100}), B({"nodeList": ["n"] * 101})),
    ("task-collection-size", "BatchTaskGroup", B({"value": [{**TASK, "id": f"t{i}"} for i in range(100)]}),
     B({"value": [{**TASK, "id": f"t{i}"} for i in range(101)]})),
    ("task-collection-serialized-size", "BatchTaskGroup",
     B({"value": [{"id": f"t{i}", "commandLine": "x" * 500_000} for i in range(2)]}),
     B({"value": [{"id": f"t{i}", "commandLine": "x" * 530_000} for i in range(2)]})),
    ("task-collection-ids-unique", "BatchTaskGroup", B({"value": [TASK, {**TASK, "id": "task-2"}]}),
     B({"value": [TASK, {**TASK, "id": "TASK-1"}]})),
    ("task-dependency-ids-total-length", "BatchTaskDependencies", B({"taskIds": ["x" * 64] * 1000}),
     B({"taskIds": ["x" * 64] * 1000 + ["y"]})),
    ("pool-application-package-count", "BatchPoolCreateOptions",
     P(applicationPackageReferences=[{"applicationId": APP + f"a{i}"} for i in range(10)]),
     P(applicationPackageReferences=[{"applicationId": APP + f"a{i}"} for i in range(11)])),
    ("pool-resize-timeout-min", "BatchPoolCreateOptions", P(resizeTimeout="PT5M"), P(resizeTimeout="PT4M59S")),
    ("resize-pool-timeout-min", "BatchPoolResizeOptions", B({"targetDedicatedNodes": 3, "resizeTimeout": "PT15M"}),
     B({"targetDedicatedNodes": 3, "resizeTimeout": "PT1M"})),
    ("remove-nodes-timeout-min", "BatchNodeRemoveOptions", B({"nodeList": ["n1"], "resizeTimeout": "PT300S"}),
     B({"nodeList": ["n1"], "resizeTimeout": "PT30S"})),
    ("pool-autoscale-interval-range", "BatchPoolCreateOptions", B({**AUTOPOOL, "autoScaleEvaluationInterval": "P7D"}),
     B({**AUTOPOOL, "autoScaleEvaluationInterval": "P7DT1S"})),
    ("enable-autoscale-interval-range", "BatchPoolEnableAutoScaleOptions",
     B({"autoScaleFormula": "$x=1;", "autoScaleEvaluationInterval": "PT5M"}),
     B({"autoScaleFormula": "$x=1;", "autoScaleEvaluationInterval": "PT4M"})),
    ("job-release-max-wall-clock-max", "BatchJobReleaseTask", B({**CMD, "maxWallClockTime": "PT15M"}),
     B({**CMD, "maxWallClockTime": "PT0.25H1S"})),
    ("schedule-start-window-min", "BatchJobScheduleConfiguration", B({"startWindow": "PT1M"}),
     B({"startWindow": "PT59S"})),
    ("schedule-recurrence-interval-min", "BatchJobScheduleConfiguration", B({"recurrenceInterval": "P1D"}),
     B({"recurrenceInterval": "PT0.5M"})),
    ("user-identity-exclusive", "UserIdentity", B({"autoUser": {"scope": "task"}}),
     B({"username": "u", "autoUser": {"scope": "task"}})),
    ("pool-info-exclusive", "BatchPoolInfo", B({"poolId": "p"}),
     B({"poolId": "p", "autoPoolSpecification": {"poolLifetimeOption": "job"}})),
    ("resource-file-source-exclusive", "ResourceFile", B({"autoStorageContainerName": "c"}),
     B({"autoStorageContainerName": "c", "storageContainerUrl": SAS_URL})),
    ("blobfuse-credential-exclusive", "AzureBlobFileSystemConfiguration",
     B({"accountName": "a", "containerName": "c", "relativeMountPath": "m", "sasKey": "s"}),
     B({"accountName": "a", "containerName": "c", "relativeMountPath": "m", "sasKey": "s", "accountKey": "k"})),
    ("mount-configuration-exclusive", "MountConfiguration",
     B({"nfsMountConfiguration": {"source": "s", "relativeMountPath": "m"}}),
     B({"nfsMountConfiguration": {"source": "s", "relativeMountPath": "m"},
        "cifsMountConfiguration": {"source": "s", "relativeMountPath": "n", "username": "u", "password": "p"}})),
    ("image-reference-exclusive", "BatchVmImageReference",
     B({"publisher": "canonical", "offer": "ubuntu", "sku": "server", "version": "latest"}),
     B({"virtualMachineImageId": GALLERY + "images/img", "version": "latest"})),
    ("linux-user-uid-gid-together", "LinuxUserConfiguration", B({"uid": 1000, "gid": 1000}), B({"gid": 1000})),
    ("pool-autoscale-forbids-target-nodes", "BatchPoolCreateOptions", B(AUTOPOOL),
     B({**AUTOPOOL, "targetLowPriorityNodes": 1})),
    ("pool-autoscale-requires-formula", "BatchPoolSpecification", B({**AUTOPOOL, "id": None}),
     B({**AUTOPOOL, "autoScaleFormula": None})),
    ("pool-fixed-size-forbids-formula", "BatchPoolCreateOptions", P(enableAutoScale=False),
     P(enableAutoScale=False, autoScaleFormula="$x=1;")),
    ("pool-fixed-size-requires-target-nodes", "BatchPoolCreateOptions",
     P(targetDedicatedNodes=None, targetLowPriorityNodes=0), P(targetDedicatedNodes=None)),
    ("pool-requires-vm-configuration", "BatchPoolCreateOptions", P(), P(virtualMachineConfiguration=None)),
    ("job-release-requires-preparation", "BatchJobCreateOptions",
     B({**JOB, "jobPreparationTask": CMD, "jobReleaseTask": CMD}), B({**JOB, "jobReleaseTask": CMD})),
    ("resource-file-http-url-requires-file-path", "ResourceFile", B({"httpUrl": "https://x/y", "filePath": "y"}),
     B({"httpUrl": "https://x/y"})),
    ("resource-file-blob-prefix-needs-container", "ResourceFile",
     B({"storageContainerUrl": SAS_URL, "blobPrefix": "in/"}),
     B({"httpUrl": "https://x/y", "filePath": "y", "blobPrefix": "in/"})),
    ("task-multi-instance-required-slots", "BatchTaskCreateOptions", B({**TASK, "requiredSlots": 1, **MULTI}),
     B({**TASK, "requiredSlots": 2, **MULTI})),
    ("host-endpoint-enforce-excludes-profile", "HostEndpointSettings", B({"mode": "Enforce"}),
     B({"mode": "enforce", "inVMAccessControlProfileReferenceId": GALLERY + "inVMAccessControlProfiles/p/versions/1"})),
    ("pool-auto-os-upgrade-excludes-windows-updates", "BatchPoolCreateOptions",
     P(upgradePolicy={"mode": "automatic", "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": True}},
       virtualMachineConfiguration={**VMC, "windowsConfiguration": {"enableAutomaticUpdates": False}}),
     P(upgradePolicy={"mode": "automatic", "automaticOSUpgradePolicy": {"enableAutomaticOSUpgrade": True}},
       virtualMachineConfiguration={**VMC, "windowsConfiguration": {"enableAutomaticUpdates": True}})),
    ("pool-cross-zone-upgrade-needs-zonal", "BatchPoolCreateOptions",
     P(upgradePolicy={"mode": "rolling", "rollingUpgradePolicy": {"enableCrossZoneUpgrade": True}},
       virtualMachineConfiguration={**VMC, "nodePlacementConfiguration": {"policy": "Zonal"}}),
     P(upgradePolicy={"mode": "rolling", "rollingUpgradePolicy": {"enableCrossZoneUpgrade": False}},
       virtualMachineConfiguration={**VMC, "nodePlacementConfiguration": {"policy": "regional"}})),
    ("pool-no-public-ip-forbids-nat-pools", "NetworkConfiguration",
     B({"publicIPAddressConfiguration": {"provision": "nopublicipaddresses"}}),
     B({"publicIPAddressConfiguration": {"provision": "NoPublicIPAddresses"},
        "endpointConfiguration": {"inboundNATPools": [nat()]}})),
    ("pool-public-ip-capacity", "BatchPoolCreateOptions",
     P(targetDedicatedNodes=200, networkConfiguration={"publicIPAddressConfiguration": {
         "provision": "usermanaged", "ipAddressIds": [PUBLIC_IP + "1", PUBLIC_IP + "2"]}}),
     P(targetDedicatedNodes=201, networkConfiguration={"publicIPAddressConfiguration": {
         "provision": "usermanaged", "ipAddressIds": [PUBLIC_IP + "1", PUBLIC_IP + "2"]}})),
    ("vm-disk-encryption-type-needs-confidential", "VirtualMachineConfiguration", B(CONFIDENTIAL),
     B({**CONFIDENTIAL, "securityProfile": {"securityType": "trustedLaunch"}})),
    ("vm-confidential-requires-disk-encryption-type", "VirtualMachineConfigurationUpdate", B(CONFIDENTIAL),
     B({**VMC, "securityProfile": {"securityType": "confidentialvm"}})),
    ("data-disk-no-vm-guest-state-encryption", "DataDisk",
     B(disk("NonPersistedTPM")), B(disk("diskwithvmgueststate"))),
    ("disk-encryption-cmk-needs-os-disk-target", "DiskEncryptionConfiguration",
     B({"targets": ["OsDisk", "temporarydisk"], "customerManagedKey": {"keyUrl": KEY_URL}}),
     B({"targets": ["temporarydisk"], "customerManagedKey": {"keyUrl": KEY_URL}})),
]

# Rules written for older versions only, checked there.
CASES_2018: list[tuple[str, str, dict, dict]] = [
    ("certificate-password-required-for-pfx", "CertificateAddParameter",
     B({"thumbprint": "t", "thumbprintAlgorithm": "sha1", "data": "ZGF0YQ==", "certificateFormat": "pfx",
        "password": "p"}),
     B({"thumbprint": "t", "thumbprintAlgorithm": "sha1", "data": "ZGF0YQ==", "certificateFormat": "pfx"})),
    ("certificate-password-forbidden-for-cer", "Certificate_Add",
     B({"thumbprint": "t", "thumbprintAlgorithm": "sha1", "data": "ZGF0YQ==", "certificateFormat": "cer"}),
     B({"thumbprint": "t", "thumbprintAlgorithm": "sha1", "data": "ZGF0YQ==", "certificateFormat": "cer",
        "password": "p"})),
    ("inbound-nat-backend-port-range-2018", "InboundNATPool", B(nat(backend=2222)), B(nat(backend=3389))),
    ("nsg-rule-priority-range-2018", "NetworkSecurityGroupRule", B({**NSG, "priority": 3500}),
     B({**NSG, "priority": 3501})),
    ("pool-os-configuration-exactly-one-2018", "PoolAddParameter",
     B({"id": "p", "vmSize": "small", "targetDedicatedNodes": 0, "cloudServiceConfiguration": {"osFamily": "6"}}),
     B({"id": "p", "vmSize": "small", "targetDedicatedNodes": 0, "cloudServiceConfiguration": {"osFamily": "6"},
        "virtualMachineConfiguration": {"imageReference": {}, "nodeAgentSKUId": "batch.node.ubuntu 22.04"}})),
]
OPERATIONS_2018 = {"Jobs_ListJobs": "Job_List", "Tasks_GetTaskFile": "File_GetFromTask"}


def _drop_nones(value: Any) -> Any:
    """`None` in a case means "leave this property out", so cases can derive from a base instance."""
    if isinstance(value, dict):
        return {k: _drop_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nones(v) for v in value]
    return value


def _ids(overlay, spec, name, request) -> list[str]:
    request = {k: _drop_nones(v) for k, v in request.items()}
    return sorted(f.rule_id for f in check_constraints(overlay, spec, name, **request))


def test_every_rule_has_a_checker_case(overlay):
    covered = {case[0] for case in CASES + CASES_2018}
    assert not ({rule.id for rule in overlay.rules} - covered), "give each new rule a valid and an invalid case"
    assert {overlay.rule(case[0]).kind for case in CASES + CASES_2018} == KINDS


@pytest.mark.parametrize(("rule_id", "name", "valid", "invalid"), CASES, ids=[c[0] for c in CASES])
def test_a_valid_instance_passes_and_an_invalid_one_breaks_exactly_its_rule(overlay, library, rule_id, name, valid,
                                                                            invalid):
    spec = library.get(CURRENT)
    assert _ids(overlay, spec, name, valid) == []
    assert _ids(overlay, spec, name, invalid) == [rule_id]


@pytest.mark.parametrize(("rule_id", "name", "valid", "invalid"), CASES_2018, ids=[c[0] for c in CASES_2018])
def test_rules_only_for_2018_are_checked_there(overlay, library, rule_id, name, valid, invalid):
    spec = library.get(OLDER)
    assert _ids(overlay, spec, name, valid) == []
    assert _ids(overlay, spec, name, invalid) == [rule_id]
    assert not overlay.rule(rule_id).targets_for(CURRENT)


def test_rules_mapped_onto_2018_behave_the_same_there(overlay, library):
    """Each case whose rule holds in 2018-08-01.7.0 gives the same verdicts under the old names."""
    spec, ran = library.get(OLDER), 0
    for rule_id, name, valid, invalid in CASES:
        old_name = OPERATIONS_2018.get(name) or RENAMED_2018.get(name, name)
        targets = overlay.rule(rule_id).targets_for(OLDER)
        if not any(old_name in (t.definition, t.operation) for t in targets):
            continue
        assert _ids(overlay, spec, old_name, valid) == [], rule_id
        assert _ids(overlay, spec, old_name, invalid) == [rule_id], rule_id
        ran += 1
    assert ran >= 40


def test_2025_values_do_not_leak_into_2018_and_back(overlay, library):
    port_22 = {"instance": nat(backend=22)}
    assert _ids(overlay, library.get(CURRENT), "BatchInboundNatPool", port_22) == []
    assert _ids(overlay, library.get(OLDER), "InboundNATPool", port_22) == ["inbound-nat-backend-port-range-2018"]
    assert _ids(overlay, library.get(OLDER), "JobAddParameter", B({**JOB, "maxParallelTasks": 0})) == []


# ---------------------------------------------------------------------------
# the checker, as the validator will call it


def test_findings_point_into_a_nested_request_body(overlay, library):
    """An auto pool inside a job inside a schedule: the finding names the rule and the exact spot."""
    body = {"id": "sched-1", "schedule": {"recurrenceInterval": "PT1H"},
            "jobSpecification": {"priority": 5000, "poolInfo": {"autoPoolSpecification": {
                "poolLifetimeOption": "jobschedule", "pool": {**POOL, "id": None, "resizeTimeout": "PT1M"}}}}}
    found = check_constraints(overlay, library.get(CURRENT), "JobSchedules_CreateJobSchedule", _drop_nones(body))
    assert [(f.rule_id, f.location, f.pointer) for f in found] == [
        ("pool-resize-timeout-min", "body", "/jobSpecification/poolInfo/autoPoolSpecification/pool/resizeTimeout"),
        ("job-spec-priority-range", "body", "/jobSpecification/priority"),
    ]
    priority = found[1]
    assert priority.expected == "-1000..1000" and priority.actual == 5000
    assert priority.source_pointer == "/definitions/BatchJobSpecification/properties/priority/description"
    assert "[job-spec-priority-range]" in priority.message and "5000" in priority.message


def test_a_request_with_body_query_and_headers(overlay, library):
    spec = library.get(CURRENT)
    body = {"value": [TASK, {**TASK, "id": "Task-1", "displayName": "d" * 2000}]}
    found = check_constraints(overlay, spec, "Tasks_CreateTaskCollection", body,
                              query={"timeOut": "30"}, headers={"client-request-id": "not-a-guid"})
    assert [(f.rule_id, f.location, f.pointer) for f in found] == [
        ("task-display-name-length", "body", "/value/1/displayName"),
        ("task-collection-ids-unique", "body", "/value/1/id"),
        ("client-request-id-guid", "header", "/client-request-id"),
    ]
    assert [f.key for f in found] == sorted(f.key for f in found)
    page = check_constraints(overlay, spec, "Pools_ListPools", query={"maxresults": 5000})
    assert [(f.rule_id, f.location, f.pointer, f.actual) for f in page] == [
        ("maxresults-range", "query", "/maxresults", 5000)
    ]
    assert check_constraints(overlay, spec, "Pools_ListPools", query={"maxresults": "many"}) == []


def test_findings_do_not_depend_on_key_order(overlay, library):
    spec = library.get(CURRENT)
    body = {**AUTOPOOL, "targetDedicatedNodes": 3, "displayName": "d" * 1030, "resizeTimeout": "PT1M"}
    forward = check_constraints(overlay, spec, "Pools_CreatePool", body)
    backward = check_constraints(overlay, spec, "Pools_CreatePool", dict(reversed(list(body.items()))))
    assert forward == backward and len(forward) == 3


def test_rules_of_one_version_never_fire_in_another(overlay, library):
    """Old names mean nothing in 2025-06-01, and a version the overlay does not cover checks nothing."""
    assert overlay.for_definition(CURRENT, "JobAddParameter") == ()
    assert check_constraints(overlay, library.get("2024-07-01.20.0"), "Pool_Add", {"id": "p" * 100}) == []


def test_an_unknown_name_is_an_error_with_a_hint(overlay, library):
    with pytest.raises(BatchContractError, match="no operation or definition named 'Job_Add'.*fix:"):
        check_constraints(overlay, library.get(CURRENT), "Job_Add", {})


def test_null_and_absent_values_do_not_fire_value_rules(overlay, library):
    spec = library.get(CURRENT)
    job = {**JOB, "displayName": None, "priority": None}
    assert _ids(overlay, spec, "BatchJobCreateOptions", {"instance": job}) == []
    assert _ids(overlay, spec, "Jobs_CreateJob", {}) == []
    assert _ids(overlay, spec, "Jobs_CreateJob", {"instance": "not an object"}) == []


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT5M", 300), ("P7D", 604800), ("PT168H", 604800), ("PT0.5M", 30), ("P1W", 604800), ("PT1,5S", 1.5),
    ("-PT1M", -60), ("P", None), ("PT", None), ("5 minutes", None), ("P1DT", None),
])
def test_duration_seconds(text, seconds):
    assert duration_seconds(text) == seconds


def test_kinds_split_cleanly():
    assert not (OBJECT_KINDS & AGGREGATE_KINDS)


# ---------------------------------------------------------------------------
# the engine's `documented_constraints` check and the refusals that fit a rule


def _request(version: str, method: str, path: str, body: Any = None, headers: dict | None = None):
    from pytest_batch.interaction import Headers, Interaction

    url = f"https://acct.westus.batch.azure.com{path}{'&' if '?' in path else '?'}api-version={version}"
    sent = {"Content-Type": "application/json; odata=minimalmetadata", **(headers or {})}
    return Interaction(method, url, Headers.of(sent), json.dumps(body).encode() if body is not None else b"")


def _documented(outcome) -> list:
    return [v for v in outcome.violations if v.check == "documented_constraints"]


def test_the_validator_checks_the_overlay_and_names_the_rule(overlay, library):
    from pytest_batch.validation import Validator

    body = {"id": "j" * 65, "poolInfo": {"poolId": "p"}, "priority": 1001}
    found = _documented(Validator(library).check(_request(CURRENT, "POST", "/jobs", body)))
    assert sorted((v.rule, v.location, v.instance_pointer, v.severity) for v in found) == [
        ("job-id-length", "request.body", "/id", "error"),
        ("job-priority-range", "request.body", "/priority", "error"),
    ]
    by_rule = {v.rule: v for v in found}
    assert by_rule["job-priority-range"].schema_pointer == overlay.rule("job-priority-range").source.pointer
    assert by_rule["job-priority-range"].actual == 1001 and "[job-priority-range]" in by_rule["job-priority-range"].message
    assert _documented(Validator(library, constraints=False).check(_request(CURRENT, "POST", "/jobs", body))) == []
    ok = {"id": "j" * 64, "poolInfo": {"poolId": "p"}, "priority": 1000}
    assert _documented(Validator(library).check(_request(CURRENT, "POST", "/jobs", ok))) == []


def test_parameters_are_checked_where_they_travel(library):
    from pytest_batch.validation import Validator

    validator = Validator(library)
    listed = _documented(validator.check(_request(CURRENT, "GET", "/jobs?maxresults=1001")))
    assert [(v.rule, v.location) for v in listed] == [("maxresults-range", "request.query.maxresults")]
    header = _documented(validator.check(_request(CURRENT, "GET", "/jobs", headers={"client-request-id": "nope"})))
    assert [(v.rule, v.location) for v in header] == [("client-request-id-guid", "request.headers.client-request-id")]
    old = _documented(validator.check(_request(OLDER, "GET", "/jobs?maxresults=1001")))
    assert [v.rule for v in old] == ["maxresults-range"]


def test_versions_without_overlay_rules_pay_nothing(library):
    from pytest_batch.validation import Validator

    body = {"id": "j" * 65, "poolInfo": {"poolId": "p"}, "priority": 1001}
    outcome = Validator(library).check(_request("2024-07-01.20.0", "POST", "/jobs", body))
    assert outcome.operation_id == "Job_Add" and _documented(outcome) == []


def test_a_test_can_allow_a_rule_by_its_id(library):
    from pytest_batch.contract import Allowance
    from pytest_batch.validation import Validator

    body = {"id": "j" * 65, "poolInfo": {"poolId": "p"}}
    (violation,) = _documented(Validator(library).check(_request(CURRENT, "POST", "/jobs", body)))
    assert Allowance(("job-id-length",)).allows(violation)
    assert Allowance(("job-*",)).allows(violation)
    assert not Allowance(("job-priority-range",)).allows(violation)


def test_every_rule_has_fitting_refusals_wherever_it_applies(overlay):
    from pytest_batch.constraints import refusals

    for rule in overlay.rules:
        locations = {"query", "header"} if any(t.operation for ts in rule.targets.values() for t in ts) else {"body"}
        for location in locations:
            fits = refusals(rule, location)
            assert fits and len(set(fits)) == len(fits), rule.id
            assert all(r.status in (400, 413) and r.code for r in fits), rule.id
    size = overlay.rule("task-collection-serialized-size")
    assert refusals(size, "body")[0].code == "RequestBodyTooLarge"  # the code the spec names for that rule
    assert refusals(overlay.rule("pool-requires-vm-configuration"), "body")[0].code == "MissingRequiredProperty"
    assert refusals(overlay.rule("maxresults-range"), "query")[0].code == "OutOfRangeQueryParameterValue"
