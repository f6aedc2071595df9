"""Source of the documented-constraints overlay, and the scan that finds constraint sentences.

`schemas/constraints.json` is generated from the table below: run
`python -m pytest_batch.constraints_build` after editing it (a test fails when
the committed file is stale). Rules are written once against the 2025-06-01
names and mapped onto `OLDER` (2018-08-01.7.0), where definitions and
operations had other names (`BatchJobCreateOptions` was `JobAddParameter`). A
rule says whether it holds there: `older=MAP` (same property, same documented
rule, renamed through `RENAMED_2018`), an explicit target list, or `()` when the
property did not exist, the old spec does not state the rule, or states another
value (such rules get a 2018-only twin, e.g. `nsg-rule-priority-range-2018`).
Parameter targets (`("param", name)`) expand to every operation of the bundle
that takes that parameter.

`scan_descriptions` splits every `description` of a Swagger document into
sentences and keeps those with a constraint keyword; `docs/constraints-triage.md`
must list each of them with its status (the tests re-run the scan).

Summaries are our own words; the spec's prose stays in the spec, referenced by
JSON pointer + sentence number.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .constraints import OVERLAY_FILE, OVERLAY_FORMAT
from .pointers import escape
from .spec import default_bundle_dir

CURRENT = "2025-06-01"
OLDER = "2018-08-01.7.0"

# ---------------------------------------------------------------------------
# the scan

KEYWORDS = re.compile(
    r"\b(?:must|cannot|can not|may not|not allowed|at most|at least|up to|maximum|minimum|exceed(?:s|ed|ing)?"
    r"|between|less than|greater than|more than|longer than|mutually exclusive|not both|only if|only when"
    r"|required if|is required|are required|required when|together|can range|range from|valid values|allowed"
    r"|reserved|inclusive|rejects|request fails|fails with|limited to|not supported|distinct|only supported"
    r"|of the form|in the form|can only|only be|specified only|format is)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\[*])")


@dataclass(frozen=True, slots=True)
class Hit:
    """One constraint-bearing sentence: the description's JSON pointer and the sentence's 1-based number."""

    pointer: str
    sentence: int
    text: str

    @property
    def key(self) -> str:
        return f"{self.pointer}#{self.sentence}"


def sentences(text: str) -> list[str]:
    """Split a description into sentences (HTML line breaks and runs of whitespace collapsed first)."""
    text = re.sub(r"<br\s*/?>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return [part for part in _SENTENCE_END.split(text) if part]


def scan_descriptions(swagger: Mapping[str, Any]) -> list[Hit]:
    """Every sentence of every `description` in `swagger` that carries a constraint keyword, in document order."""
    hits: list[Hit] = []

    def walk(node: Any, pointer: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                child = f"{pointer}/{escape(key)}"
                if key == "description" and isinstance(value, str):
                    for n, sentence in enumerate(sentences(value), 1):
                        if KEYWORDS.search(sentence):
                            hits.append(Hit(child, n, sentence))
                else:
                    walk(value, child)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{pointer}/{i}")

    walk(swagger, "")
    return hits


# ---------------------------------------------------------------------------
# the rules

RENAMED_2018 = {
    "BatchApplicationPackageReference": "ApplicationPackageReference",
    "BatchAutoPoolSpecification": "AutoPoolSpecification",
    "BatchAutoPoolSpecificationUpdate": "AutoPoolSpecification",
    "BatchInboundNatPool": "InboundNATPool",
    "BatchJob": "JobUpdateParameter",  # the body of PUT /jobs/{jobId}
    "BatchJobConstraints": "JobConstraints",
    "BatchJobCreateOptions": "JobAddParameter",
    "BatchJobManagerTask": "JobManagerTask",
    "BatchJobManagerTaskUpdate": "JobManagerTask",
    "BatchJobPreparationTask": "JobPreparationTask",
    "BatchJobPreparationTaskUpdate": "JobPreparationTask",
    "BatchJobReleaseTask": "JobReleaseTask",
    "BatchJobReleaseTaskUpdate": "JobReleaseTask",
    "BatchJobSchedule": "JobScheduleUpdateParameter",  # the body of PUT /jobschedules/{id}
    "BatchJobScheduleConfiguration": "Schedule",
    "BatchJobScheduleCreateOptions": "JobScheduleAddParameter",
    "BatchJobScheduleUpdateOptions": "JobSchedulePatchParameter",
    "BatchJobSpecification": "JobSpecification",
    "BatchJobSpecificationUpdate": "JobSpecification",
    "BatchJobUpdateOptions": "JobPatchParameter",
    "BatchNodeRemoveOptions": "NodeRemoveParameter",
    "BatchPoolCreateOptions": "PoolAddParameter",
    "BatchPoolEnableAutoScaleOptions": "PoolEnableAutoScaleParameter",
    "BatchPoolEndpointConfiguration": "PoolEndpointConfiguration",
    "BatchPoolEndpointConfigurationUpdate": "PoolEndpointConfiguration",
    "BatchPoolInfo": "PoolInformation",
    "BatchPoolInfoUpdate": "PoolInformation",
    "BatchPoolReplaceOptions": "PoolUpdatePropertiesParameter",
    "BatchPoolResizeOptions": "PoolResizeParameter",
    "BatchPoolSpecification": "PoolSpecification",
    "BatchPoolSpecificationUpdate": "PoolSpecification",
    "BatchPoolUpdateOptions": "PoolPatchParameter",
    "BatchStartTask": "StartTask",
    "BatchStartTaskUpdate": "StartTask",
    "BatchTask": "TaskUpdateParameter",  # the body of PUT /jobs/{jobId}/tasks/{taskId}
    "BatchTaskConstraints": "TaskConstraints",
    "BatchTaskCreateOptions": "TaskAddParameter",
    "BatchTaskDependencies": "TaskDependencies",
    "BatchTaskGroup": "TaskAddCollectionParameter",
    "BatchTaskIdRange": "TaskIdRange",
    "NetworkConfigurationUpdate": "NetworkConfiguration",
    "VirtualMachineConfigurationUpdate": "VirtualMachineConfiguration",
}

MAP = "map"  # `older=MAP`: the same targets under their 2018-08-01.7.0 names


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule as written here: targets are (definition, path) pairs or ("param", parameter name)."""

    id: str
    kind: str
    value: Mapping[str, Any]
    summary: str
    source: tuple[str, int]
    at: tuple[tuple[str, str], ...]
    older: Any = MAP
    source_version: str = CURRENT


def _r(rule_id, kind, value, summary, source, n, at, older=MAP, source_version=CURRENT) -> RuleSpec:
    return RuleSpec(rule_id, kind, value, summary, (source, n), tuple(at), older, source_version)


def _d(name: str, prop: str) -> str:
    return f"/definitions/{name}/properties/{prop}/description"


_ID = {"regex": "[A-Za-z0-9_-]+"}
_ARM = "/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
_POOL = ("BatchPoolCreateOptions", "BatchPoolSpecification", "BatchPoolSpecificationUpdate")
_POOL_ALL = (*_POOL, "BatchPoolUpdateOptions")
_AUTOSCALE_ON = [{"property": "enableAutoScale", "equals": True}]
_AUTOSCALE_OFF = [{"property": "enableAutoScale", "equals": False, "default": False}]
_NOT_CONFIDENTIAL = [{"property": "securityProfile/securityType", "in": ["confidentialVM"], "negate": True}]


def _on(names: Iterable[str], path: str) -> list[tuple[str, str]]:
    return [(name, path) for name in names]


RULES: tuple[RuleSpec, ...] = (
    # --- identifiers: at most 64 letters, digits, hyphens and underscores ---------------------------
    *(
        rule
        for prefix, what, definitions in (
            ("job", "A job id", ("BatchJobCreateOptions",)),
            ("job-schedule", "A job schedule id", ("BatchJobScheduleCreateOptions",)),
            ("pool", "A pool id", ("BatchPoolCreateOptions",)),
            ("task", "A task id", ("BatchTaskCreateOptions",)),
            ("job-manager-task", "A job manager task id", ("BatchJobManagerTask", "BatchJobManagerTaskUpdate")),
            ("job-preparation-task", "A job preparation task id",
             ("BatchJobPreparationTask", "BatchJobPreparationTaskUpdate")),
            ("job-release-task", "A job release task id", ("BatchJobReleaseTask", "BatchJobReleaseTaskUpdate")),
        )
        for rule in (
            _r(f"{prefix}-id-length", "length", {"max": 64}, f"{what} is at most 64 characters long",
               _d(definitions[0], "id"), 2, _on(definitions, "id")),
            _r(f"{prefix}-id-charset", "pattern", _ID, f"{what} uses only letters, digits, hyphens and underscores",
               _d(definitions[0], "id"), 2, _on(definitions, "id")),
        )
    ),
    # --- display names and other free text --------------------------------------------------------
    _r("job-display-name-length", "length", {"max": 1024}, "A job display name is at most 1024 characters long",
       _d("BatchJobCreateOptions", "displayName"), 2, _on(["BatchJobCreateOptions"], "displayName")),
    _r("job-schedule-display-name-length", "length", {"max": 1024},
       "A job schedule display name is at most 1024 characters long",
       _d("BatchJobScheduleCreateOptions", "displayName"), 2, _on(["BatchJobScheduleCreateOptions"], "displayName")),
    _r("pool-display-name-length", "length", {"max": 1024}, "A pool display name is at most 1024 characters long",
       _d("BatchPoolCreateOptions", "displayName"), 2, _on(_POOL_ALL, "displayName"),
       older=[("PoolAddParameter", "displayName"), ("PoolSpecification", "displayName")]),
    _r("task-display-name-length", "length", {"max": 1024}, "A task display name is at most 1024 characters long",
       _d("BatchTaskCreateOptions", "displayName"), 2, _on(["BatchTaskCreateOptions"], "displayName")),
    _r("job-manager-task-display-name-length", "length", {"max": 1024},
       "A job manager task display name is at most 1024 characters long",
       _d("BatchJobManagerTask", "displayName"), 2,
       _on(["BatchJobManagerTask", "BatchJobManagerTaskUpdate"], "displayName")),
    _r("job-spec-display-name-length", "length", {"max": 1024},
       "The display name of jobs a schedule creates is at most 1024 characters long",
       _d("BatchJobSpecification", "displayName"), 2,
       _on(["BatchJobSpecification", "BatchJobSpecificationUpdate"], "displayName")),
    _r("auto-pool-id-prefix-length", "length", {"max": 20}, "An auto pool id prefix is at most 20 characters long",
       _d("BatchAutoPoolSpecification", "autoPoolIdPrefix"), 4,
       _on(["BatchAutoPoolSpecification", "BatchAutoPoolSpecificationUpdate"], "autoPoolIdPrefix")),
    _r("user-account-name-length", "length", {"max": 20}, "A pool user account name is at most 20 characters long",
       _d("UserAccount", "name"), 2, [("UserAccount", "name")], older=()),
    # --- inbound NAT pools -------------------------------------------------------------------------
    _r("inbound-nat-pool-name-length", "length", {"max": 77}, "An inbound NAT pool name is at most 77 characters long",
       _d("BatchInboundNatPool", "name"), 3, [("BatchInboundNatPool", "name")]),
    _r("inbound-nat-pool-name-charset", "pattern", {"regex": "[A-Za-z0-9_.-]+"},
       "An inbound NAT pool name uses only letters, digits, underscores, periods and hyphens",
       _d("BatchInboundNatPool", "name"), 2, [("BatchInboundNatPool", "name")]),
    _r("inbound-nat-pool-name-start", "pattern", {"regex": "[A-Za-z0-9].*"},
       "An inbound NAT pool name starts with a letter or a digit",
       _d("BatchInboundNatPool", "name"), 3, [("BatchInboundNatPool", "name")]),
    _r("inbound-nat-pool-name-end", "pattern", {"regex": ".*[A-Za-z0-9_]"},
       "An inbound NAT pool name ends with a letter, a digit or an underscore",
       _d("BatchInboundNatPool", "name"), 3, [("BatchInboundNatPool", "name")]),
    _r("inbound-nat-pool-name-unique", "unique", {},
       "Inbound NAT pool names are unique within a pool",
       _d("BatchInboundNatPool", "name"), 2, _on(["BatchPoolEndpointConfiguration"], "inboundNATPools/*/name")),
    _r("inbound-nat-backend-port-range", "range", {"min": 1, "max": 65535, "except": [[29876, 29877]]},
       "An inbound NAT backend port is 1..65535 and not one of the reserved 29876, 29877",
       _d("BatchInboundNatPool", "backendPort"), 3, [("BatchInboundNatPool", "backendPort")], older=()),
    _r("inbound-nat-backend-port-unique", "unique", {}, "Inbound NAT backend ports are unique within a pool",
       _d("BatchInboundNatPool", "backendPort"), 2,
       _on(["BatchPoolEndpointConfiguration"], "inboundNATPools/*/backendPort")),
    _r("inbound-nat-frontend-start-range", "range", {"min": 1, "max": 65534, "except": [[50000, 55000]]},
       "An inbound NAT frontend range starts in 1..65534, outside the reserved 50000..55000",
       _d("BatchInboundNatPool", "frontendPortRangeStart"), 2, [("BatchInboundNatPool", "frontendPortRangeStart")]),
    _r("inbound-nat-frontend-end-range", "range", {"min": 1, "max": 65534, "except": [[50000, 55000]]},
       "An inbound NAT frontend range ends in 1..65534, outside the reserved 50000..55000",
       _d("BatchInboundNatPool", "frontendPortRangeEnd"), 2, [("BatchInboundNatPool", "frontendPortRangeEnd")]),
    _r("inbound-nat-frontend-range-size", "span",
       {"start": "frontendPortRangeStart", "end": "frontendPortRangeEnd", "min": 40},
       "An inbound NAT frontend port range holds at least 40 ports",
       _d("BatchInboundNatPool", "frontendPortRangeStart"), 4, [("BatchInboundNatPool", "")]),
    _r("inbound-nat-frontend-ranges-disjoint", "no_overlap",
       {"start": "frontendPortRangeStart", "end": "frontendPortRangeEnd"},
       "The frontend port ranges of a pool's inbound NAT pools do not overlap",
       _d("BatchInboundNatPool", "frontendPortRangeStart"), 3,
       _on(["BatchPoolEndpointConfiguration"], "inboundNATPools/*")),
    _r("pool-inbound-nat-pool-count", "collection_size", {"max": 5}, "A pool has at most 5 inbound NAT pools",
       _d("BatchPoolEndpointConfiguration", "inboundNATPools"), 2,
       _on(["BatchPoolEndpointConfiguration", "BatchPoolEndpointConfigurationUpdate"], "inboundNATPools")),
    _r("pool-nsg-rule-total", "total_count", {"max": 25},
       "A pool has at most 25 network security group rules across all its inbound NAT pools",
       _d("BatchInboundNatPool", "networkSecurityGroupRules"), 2,
       _on(["BatchPoolEndpointConfiguration", "BatchPoolEndpointConfigurationUpdate"],
           "inboundNATPools/*/networkSecurityGroupRules")),
    _r("nsg-rule-priority-range", "range", {"min": 150, "max": 4096},
       "A network security group rule priority is 150..4096",
       _d("NetworkSecurityGroupRule", "priority"), 6, [("NetworkSecurityGroupRule", "priority")], older=()),
    _r("nsg-rule-priority-unique", "unique", {}, "Network security group rule priorities are unique within a pool",
       _d("NetworkSecurityGroupRule", "priority"), 2,
       _on(["BatchPoolEndpointConfiguration", "BatchPoolEndpointConfigurationUpdate"],
           "inboundNATPools/*/networkSecurityGroupRules/*/priority")),
    _r("nsg-source-address-prefix-form", "pattern",
       {"regex": r"\*|[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(/[0-9]{1,3})?"
                 r"|[A-Za-z][A-Za-z0-9._-]*"},
       "A rule's source address prefix is an IP address, a subnet, a service tag or *",
       _d("NetworkSecurityGroupRule", "sourceAddressPrefix"), 2, [("NetworkSecurityGroupRule", "sourceAddressPrefix")]),
    _r("nsg-source-port-form", "pattern", {"regex": r"\*|[0-9]+(-[0-9]+)?"},
       "A rule's source port range is *, a port or a range start-end",
       _d("NetworkSecurityGroupRule", "sourcePortRanges"), 2, [("NetworkSecurityGroupRule", "sourcePortRanges/*")],
       older=()),
    _r("nsg-source-port-bounds", "range", {"min": 0, "max": 65535, "parse": "port-range"},
       "A rule's source ports lie in 0..65535",
       _d("NetworkSecurityGroupRule", "sourcePortRanges"), 3, [("NetworkSecurityGroupRule", "sourcePortRanges/*")],
       older=()),
    _r("nsg-source-port-ranges-disjoint", "no_overlap", {"parse": "port-range"},
       "A rule's source port ranges do not overlap each other",
       _d("NetworkSecurityGroupRule", "sourcePortRanges"), 4, [("NetworkSecurityGroupRule", "sourcePortRanges/*")],
       older=()),
    # --- ARM resource ids and other forms ---------------------------------------------------------
    _r("job-subnet-id-form", "pattern",
       {"regex": _ARM + "[^/]+/virtualNetworks/[^/]+/subnets/[^/]+", "ignore_case": True},
       "A job's subnet id is an ARM virtual network subnet id",
       _d("BatchJobNetworkConfiguration", "subnetId"), 8,
       _on(["BatchJobNetworkConfiguration", "BatchJobNetworkConfigurationUpdate"], "subnetId"), older=()),
    _r("pool-subnet-id-form", "pattern",
       {"regex": _ARM + "[^/]+/virtualNetworks/[^/]+/subnets/[^/]+", "ignore_case": True},
       "A pool's subnet id is an ARM virtual network subnet id",
       _d("NetworkConfiguration", "subnetId"), 2,
       _on(["NetworkConfiguration", "NetworkConfigurationUpdate"], "subnetId"), older=()),
    _r("public-ip-id-form", "pattern",
       {"regex": _ARM + r"Microsoft\.Network/publicIPAddresses/[^/]+", "ignore_case": True},
       "Each public IP of a pool is an ARM public IP address id",
       _d("BatchPublicIpAddressConfiguration", "ipAddressIds"), 4,
       [("BatchPublicIpAddressConfiguration", "ipAddressIds/*")], older=()),
    _r("vm-image-id-form", "pattern",
       {"regex": _ARM + r"Microsoft\.Compute/galleries/[^/]+/images/[^/]+(/versions/[^/]+)?", "ignore_case": True},
       "A virtual machine image id is an Azure Compute Gallery image (or image version) id",
       _d("BatchVmImageReference", "virtualMachineImageId"), 3, [("BatchVmImageReference", "virtualMachineImageId")],
       older=()),
    _r("pool-application-package-id-form", "pattern",
       {"regex": _ARM + r"Microsoft\.Batch/batchAccounts/[^/]+/applications/[^/]+", "ignore_case": True},
       "A pool's application package reference uses the fully qualified ARM application id",
       _d("BatchApplicationPackageReference", "applicationId"), 2,
       _on(_POOL, "applicationPackageReferences/*/applicationId"), older=()),
    _r("invm-access-profile-id-form", "pattern",
       {"regex": _ARM + r"Microsoft\.Compute/galleries/[^/]+/inVMAccessControlProfiles/[^/]+/versions/[^/]+",
        "ignore_case": True},
       "An in-VM access control profile reference is an ARM gallery profile version id",
       _d("HostEndpointSettings", "inVMAccessControlProfileReferenceId"), 1,
       [("HostEndpointSettings", "inVMAccessControlProfileReferenceId")], older=()),
    _r("service-artifact-id-form", "pattern",
       {"regex": _ARM + r"Microsoft\.Compute/galleries/[^/]+/serviceArtifacts/[^/]+/vmArtifactsProfiles/[^/]+",
        "ignore_case": True},
       "A service artifact reference is an ARM gallery service artifact profile id",
       _d("ServiceArtifactReference", "id"), 2,
       _on(["ServiceArtifactReference", "ServiceArtifactReferenceUpdate"], "id"), older=()),
    _r("client-request-id-guid", "pattern",
       {"regex": "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"},
       "The client-request-id header is a bare GUID (no braces)",
       "/paths/~1applications/get/parameters/2/description", 1, [("param", "client-request-id")]),
    _r("ocp-range-form", "pattern", {"regex": "bytes=[0-9]+-[0-9]*"},
       "The ocp-range header reads bytes=start-end (an open end is tolerated)",
       "/paths/~1jobs~1{jobId}~1tasks~1{taskId}~1files~1{filePath}/get/parameters/10/description", 3,
       [("param", "ocp-range")]),
    _r("azure-file-url-form", "pattern", {"regex": r"https://[^/]+\.file\.core\.[^/]+(/.*)?", "ignore_case": True},
       "An Azure Files mount URL is https://<account>.file.core.<cloud suffix>/...",
       _d("AzureFileShareConfiguration", "azureFileUrl"), 2, [("AzureFileShareConfiguration", "azureFileUrl")],
       older=()),
    _r("disk-cmk-key-url-versioned", "pattern", {"regex": "https://[^/]+/keys/[^/]+/[^/?#]+/?", "ignore_case": True},
       "A customer-managed disk key URL names the key version",
       _d("DiskCustomerManagedKey", "keyUrl"), 2, [("DiskCustomerManagedKey", "keyUrl")], older=()),
    _r("output-container-url-needs-sas", "pattern",
       {"regex": r"[^?#]*\?([^#]*&)?sig=[^&#]+.*", "when": [{"property": "identityReference", "present": False}]},
       "An output file container URL carries a SAS (sig=) unless a managed identity is given",
       _d("OutputFileBlobContainerDestination", "containerUrl"), 2,
       [("OutputFileBlobContainerDestination", "containerUrl")], older=()),
    _r("upload-logs-container-url-needs-sas", "pattern",
       {"regex": r"[^?#]*\?([^#]*&)?sig=[^&#]+.*", "when": [{"property": "identityReference", "present": False}]},
       "An upload-logs container URL carries a SAS (sig=) unless a managed identity is given",
       _d("UploadBatchServiceLogsOptions", "containerUrl"), 2, [("UploadBatchServiceLogsOptions", "containerUrl")],
       older=()),
    _r("resource-file-path-stays-inside", "pattern", {"regex": r"(?!(?:.*[/\\])?\.\.(?:[/\\].*)?\Z).*"},
       "A resource file path has no '..' segment that would leave the task directory",
       _d("ResourceFile", "filePath"), 5, [("ResourceFile", "filePath")], older=()),
    _r("auth-token-access-values", "allowed_values", {"values": ["job"], "ignore_case": True},
       "An authentication token grants access to 'job' only",
       _d("AuthenticationTokenSettings", "access"), 3, [("AuthenticationTokenSettings", "access/*")]),
    # --- numeric ranges ----------------------------------------------------------------------------
    _r("job-priority-range", "range", {"min": -1000, "max": 1000}, "A job priority is -1000..1000",
       _d("BatchJobCreateOptions", "priority"), 2,
       _on(["BatchJobCreateOptions", "BatchJob", "BatchJobUpdateOptions"], "priority")),
    _r("job-spec-priority-range", "range", {"min": -1000, "max": 1000},
       "The priority of jobs a schedule creates is -1000..1000",
       _d("BatchJobSpecification", "priority"), 2,
       _on(["BatchJobSpecification", "BatchJobSpecificationUpdate"], "priority")),
    _r("job-max-parallel-tasks-range", "range", {"min": -1, "except": [[0, 0]]},
       "A job's maxParallelTasks is -1 (no limit) or positive",
       _d("BatchJobCreateOptions", "maxParallelTasks"), 3,
       _on(["BatchJobCreateOptions", "BatchJob", "BatchJobUpdateOptions"], "maxParallelTasks"), older=()),
    _r("job-spec-max-parallel-tasks-range", "range", {"min": -1, "except": [[0, 0]]},
       "The maxParallelTasks of jobs a schedule creates is -1 (no limit) or positive",
       _d("BatchJobSpecification", "maxParallelTasks"), 3,
       _on(["BatchJobSpecification", "BatchJobSpecificationUpdate"], "maxParallelTasks"), older=()),
    _r("job-max-task-retry-count-range", "range", {"min": -1},
       "A job's maxTaskRetryCount is -1 (retry without limit) or more",
       _d("BatchJobConstraints", "maxTaskRetryCount"), 7, [("BatchJobConstraints", "maxTaskRetryCount")]),
    _r("task-max-task-retry-count-range", "range", {"min": -1},
       "A task's maxTaskRetryCount is -1 (retry without limit) or more",
       _d("BatchTaskConstraints", "maxTaskRetryCount"), 7, [("BatchTaskConstraints", "maxTaskRetryCount")]),
    _r("start-task-max-task-retry-count-range", "range", {"min": -1},
       "A start task's maxTaskRetryCount is -1 (retry without limit) or more",
       _d("BatchStartTask", "maxTaskRetryCount"), 7,
       _on(["BatchStartTask", "BatchStartTaskUpdate"], "maxTaskRetryCount")),
    _r("data-disk-lun-range", "range", {"min": 0, "max": 63}, "A data disk's logical unit number is 0..63",
       _d("DataDisk", "lun"), 4, [("DataDisk", "lun")], older=()),
    _r("data-disk-lun-unique", "unique", {}, "The data disks of a pool have distinct logical unit numbers",
       _d("DataDisk", "lun"), 3,
       _on(["VirtualMachineConfiguration", "VirtualMachineConfigurationUpdate"], "dataDisks/*/lun")),
    _r("pool-task-slots-per-node-max", "range", {"min": 1, "max": 256},
       "A pool's taskSlotsPerNode counts slots, 1..256 (the 4-per-core cap needs the VM size's core count)",
       _d("BatchPoolCreateOptions", "taskSlotsPerNode"), 3, _on(_POOL_ALL, "taskSlotsPerNode"), older=()),
    _r("rolling-max-batch-instance-percent-range", "range", {"min": 5, "max": 100},
       "A rolling upgrade's maxBatchInstancePercent is 5..100",
       _d("RollingUpgradePolicy", "maxBatchInstancePercent"), 3, [("RollingUpgradePolicy", "maxBatchInstancePercent")],
       older=()),
    _r("rolling-max-unhealthy-instance-percent-range", "range", {"min": 5, "max": 100},
       "A rolling upgrade's maxUnhealthyInstancePercent is 5..100",
       _d("RollingUpgradePolicy", "maxUnhealthyInstancePercent"), 3,
       [("RollingUpgradePolicy", "maxUnhealthyInstancePercent")], older=()),
    _r("rolling-max-unhealthy-upgraded-percent-range", "range", {"min": 0, "max": 100},
       "A rolling upgrade's maxUnhealthyUpgradedInstancePercent is 0..100",
       _d("RollingUpgradePolicy", "maxUnhealthyUpgradedInstancePercent"), 4,
       [("RollingUpgradePolicy", "maxUnhealthyUpgradedInstancePercent")], older=()),
    _r("rolling-batch-not-above-unhealthy", "ordered",
       {"lesser": "maxBatchInstancePercent", "greater": "maxUnhealthyInstancePercent"},
       "A rolling upgrade's maxBatchInstancePercent does not exceed its maxUnhealthyInstancePercent",
       _d("RollingUpgradePolicy", "maxBatchInstancePercent"), 4, [("RollingUpgradePolicy", "")], older=()),
    _r("exit-code-range-ordered", "ordered", {"lesser": "start", "greater": "end"},
       "An exit code range starts at or below its end (both ends inclusive)",
       _d("ExitCodeRangeMapping", "exitOptions"), 1, [("ExitCodeRangeMapping", "")], older=()),
    _r("task-id-range-ordered", "ordered", {"lesser": "start", "greater": "end"},
       "A task id range starts at or below its end (both ends inclusive)",
       "/definitions/BatchTaskIdRange/description", 1, [("BatchTaskIdRange", "")], older=()),
    _r("maxresults-range", "range", {"min": 1, "max": 1000}, "A list page asks for 1..1000 items (maxresults)",
       "/paths/~1applications/get/parameters/5/description", 2, [("param", "maxresults")]),
    # --- collection sizes --------------------------------------------------------------------------
    _r("remove-nodes-list-size", "collection_size", {"max": 100}, "One remove-nodes request names at most 100 nodes",
       _d("BatchNodeRemoveOptions", "nodeList"), 2, [("BatchNodeRemoveOptions", "nodeList")], older=()),
    _r("task-collection-size", "collection_size", {"max": 100},
       "One add-task-collection request holds at most 100 tasks",
       _d("BatchTaskGroup", "value"), 2, [("BatchTaskGroup", "value")]),
    _r("task-collection-serialized-size", "serialized_size", {"max_bytes": 1048576, "exclusive": True},
       "The tasks of one add-task-collection request serialise to less than 1 MiB",
       _d("BatchTaskGroup", "value"), 3, [("BatchTaskGroup", "value")]),
    _r("task-collection-ids-unique", "unique", {"ignore_case": True},
       "The tasks of one add-task-collection request have distinct ids (ignoring case)",
       "/paths/~1jobs~1{jobId}~1addtaskcollection/post/description", 1, [("BatchTaskGroup", "value/*/id")]),
    _r("task-dependency-ids-total-length", "total_length", {"max": 64000},
       "The task ids a task depends on total at most 64,000 characters",
       _d("BatchTaskDependencies", "taskIds"), 3, [("BatchTaskDependencies", "taskIds")]),
    _r("pool-application-package-count", "collection_size", {"max": 10},
       "A pool references at most 10 application packages",
       _d("BatchPoolCreateOptions", "applicationPackageReferences"), 4,
       _on((*_POOL_ALL, "BatchPoolReplaceOptions"), "applicationPackageReferences"), older=()),
    # --- durations ---------------------------------------------------------------------------------
    _r("pool-resize-timeout-min", "duration_range", {"min": "PT5M"}, "A pool's resizeTimeout is at least 5 minutes",
       _d("BatchPoolCreateOptions", "resizeTimeout"), 4, _on(_POOL, "resizeTimeout")),
    _r("resize-pool-timeout-min", "duration_range", {"min": "PT5M"},
       "The resizeTimeout of a resize-pool request is at least 5 minutes",
       _d("BatchPoolResizeOptions", "resizeTimeout"), 3, [("BatchPoolResizeOptions", "resizeTimeout")]),
    _r("remove-nodes-timeout-min", "duration_range", {"min": "PT5M"},
       "The resizeTimeout of a remove-nodes request is at least 5 minutes",
       _d("BatchNodeRemoveOptions", "resizeTimeout"), 3, [("BatchNodeRemoveOptions", "resizeTimeout")]),
    _r("pool-autoscale-interval-range", "duration_range", {"min": "PT5M", "max": "PT168H"},
       "A pool's autoscale evaluation interval is 5 minutes..168 hours",
       _d("BatchPoolCreateOptions", "autoScaleEvaluationInterval"), 3, _on(_POOL, "autoScaleEvaluationInterval")),
    _r("enable-autoscale-interval-range", "duration_range", {"min": "PT5M", "max": "PT168H"},
       "The evaluation interval of an enable-autoscale request is 5 minutes..168 hours",
       _d("BatchPoolEnableAutoScaleOptions", "autoScaleEvaluationInterval"), 3,
       [("BatchPoolEnableAutoScaleOptions", "autoScaleEvaluationInterval")]),
    _r("job-release-max-wall-clock-max", "duration_range", {"max": "PT15M"},
       "A job release task's maxWallClockTime is at most 15 minutes",
       _d("BatchJobReleaseTask", "maxWallClockTime"), 4,
       _on(["BatchJobReleaseTask", "BatchJobReleaseTaskUpdate"], "maxWallClockTime")),
    _r("schedule-start-window-min", "duration_range", {"min": "PT1M"},
       "A job schedule's startWindow is at least 1 minute",
       _d("BatchJobScheduleConfiguration", "startWindow"), 5, [("BatchJobScheduleConfiguration", "startWindow")]),
    _r("schedule-recurrence-interval-min", "duration_range", {"min": "PT1M"},
       "A job schedule's recurrenceInterval is at least 1 minute",
       _d("BatchJobScheduleConfiguration", "recurrenceInterval"), 8,
       [("BatchJobScheduleConfiguration", "recurrenceInterval")]),
    # --- mutually exclusive properties -------------------------------------------------------------
    _r("user-identity-exclusive", "mutually_exclusive", {"groups": [["username"], ["autoUser"]], "exactly_one": True},
       "A user identity names either a user or an auto user, exactly one of them",
       _d("UserIdentity", "username"), 2, [("UserIdentity", "")]),
    _r("pool-info-exclusive", "mutually_exclusive",
       {"groups": [["poolId"], ["autoPoolSpecification"]], "exactly_one": True},
       "A job's pool is given either by id or by an auto pool specification, exactly one of them",
       _d("BatchPoolInfo", "poolId"), 6, _on(["BatchPoolInfo", "BatchPoolInfoUpdate"], "")),
    _r("resource-file-source-exclusive", "mutually_exclusive",
       {"groups": [["autoStorageContainerName"], ["storageContainerUrl"], ["httpUrl"]], "exactly_one": True},
       "A resource file comes from exactly one of an auto-storage container, a container URL or an HTTP URL",
       _d("ResourceFile", "autoStorageContainerName"), 2, [("ResourceFile", "")], older=()),
    _r("blobfuse-credential-exclusive", "mutually_exclusive",
       {"groups": [["accountKey"], ["sasKey"], ["identityReference"]], "exactly_one": True},
       "A blobfuse mount authenticates with exactly one of an account key, a SAS key or an identity",
       _d("AzureBlobFileSystemConfiguration", "accountKey"), 2, [("AzureBlobFileSystemConfiguration", "")], older=()),
    _r("mount-configuration-exclusive", "mutually_exclusive",
       {"groups": [["azureBlobFileSystemConfiguration"], ["nfsMountConfiguration"], ["cifsMountConfiguration"],
                   ["azureFileShareConfiguration"]]},
       "A mount configuration describes one file system kind only",
       _d("MountConfiguration", "azureBlobFileSystemConfiguration"), 2, [("MountConfiguration", "")], older=()),
    _r("image-reference-exclusive", "mutually_exclusive",
       {"groups": [["virtualMachineImageId"], ["sharedGalleryImageId"], ["communityGalleryImageId"],
                   ["publisher", "offer", "sku", "version"]]},
       "An image reference is a gallery image id, a shared or community gallery id, or a marketplace image, not a mix",
       _d("BatchVmImageReference", "virtualMachineImageId"), 4, [("BatchVmImageReference", "")], older=()),
    _r("linux-user-uid-gid-together", "all_or_none", {"properties": ["uid", "gid"]},
       "A Linux user's uid and gid come together or not at all",
       _d("LinuxUserConfiguration", "uid"), 2, [("LinuxUserConfiguration", "")]),
    # --- conditional requirements ------------------------------------------------------------------
    _r("pool-autoscale-forbids-target-nodes", "forbidden_if",
       {"properties": ["targetDedicatedNodes", "targetLowPriorityNodes"], "when": _AUTOSCALE_ON},
       "An autoscaling pool sets no target node counts",
       _d("BatchPoolCreateOptions", "targetDedicatedNodes"), 2, _on(_POOL, "")),
    _r("pool-autoscale-requires-formula", "required_if", {"any_of": ["autoScaleFormula"], "when": _AUTOSCALE_ON},
       "An autoscaling pool has an autoscale formula",
       _d("BatchPoolCreateOptions", "autoScaleFormula"), 3, _on(_POOL, "")),
    _r("pool-fixed-size-forbids-formula", "forbidden_if", {"properties": ["autoScaleFormula"], "when": _AUTOSCALE_OFF},
       "A pool that does not autoscale has no autoscale formula",
       _d("BatchPoolCreateOptions", "autoScaleFormula"), 2, _on(_POOL, "")),
    _r("pool-fixed-size-requires-target-nodes", "required_if",
       {"any_of": ["targetDedicatedNodes", "targetLowPriorityNodes"], "when": _AUTOSCALE_OFF},
       "A pool that does not autoscale sets targetDedicatedNodes, targetLowPriorityNodes or both",
       _d("BatchPoolCreateOptions", "targetDedicatedNodes"), 3, _on(_POOL, "")),
    _r("pool-requires-vm-configuration", "required_if", {"any_of": ["virtualMachineConfiguration"]},
       "A new pool has a virtual machine configuration",
       _d("BatchPoolCreateOptions", "virtualMachineConfiguration"), 2, _on(_POOL, ""), older=()),
    _r("job-release-requires-preparation", "required_if",
       {"any_of": ["jobPreparationTask"], "when": [{"property": "jobReleaseTask", "present": True}]},
       "A job with a release task also has a preparation task",
       _d("BatchJobCreateOptions", "jobReleaseTask"), 2,
       _on(["BatchJobCreateOptions", "BatchJobSpecification", "BatchJobSpecificationUpdate"], "")),
    _r("resource-file-http-url-requires-file-path", "required_if",
       {"any_of": ["filePath"], "when": [{"property": "httpUrl", "present": True}]},
       "A resource file downloaded from an HTTP URL has a filePath",
       _d("ResourceFile", "filePath"), 2, [("ResourceFile", "")], older=()),
    _r("resource-file-blob-prefix-needs-container", "forbidden_if",
       {"properties": ["blobPrefix"], "when": [{"property": "autoStorageContainerName", "present": False},
                                                {"property": "storageContainerUrl", "present": False}]},
       "A resource file's blobPrefix goes with a container source only",
       _d("ResourceFile", "blobPrefix"), 3, [("ResourceFile", "")], older=()),
    _r("task-multi-instance-required-slots", "value_if",
       {"property": "requiredSlots", "values": [1], "when": [{"property": "multiInstanceSettings", "present": True}]},
       "A multi-instance task requires exactly 1 slot",
       _d("BatchTaskCreateOptions", "requiredSlots"), 4, [("BatchTaskCreateOptions", "")], older=()),
    _r("host-endpoint-enforce-excludes-profile", "forbidden_if",
       {"properties": ["inVMAccessControlProfileReferenceId"], "when": [{"property": "mode", "in": ["Enforce"]}]},
       "A host endpoint in Enforce mode names no in-VM access control profile",
       "/definitions/HostEndpointSettingsModeTypes/x-ms-enum/values/1/description", 2,
       [("HostEndpointSettings", "")], older=()),
    _r("pool-auto-os-upgrade-excludes-windows-updates", "value_if",
       {"property": "virtualMachineConfiguration/windowsConfiguration/enableAutomaticUpdates", "values": [False],
        "when": [{"property": "upgradePolicy/automaticOSUpgradePolicy/enableAutomaticOSUpgrade", "equals": True}]},
       "A pool with automatic OS upgrades does not also turn on Windows automatic updates",
       _d("AutomaticOsUpgradePolicy", "enableAutomaticOSUpgrade"), 2, _on(_POOL_ALL, ""), older=()),
    _r("pool-cross-zone-upgrade-needs-zonal", "forbidden_if",
       {"properties": ["upgradePolicy/rollingUpgradePolicy/enableCrossZoneUpgrade"],
        "when": [{"property": "virtualMachineConfiguration/nodePlacementConfiguration/policy", "in": ["zonal"],
                  "negate": True}]},
       "Only a zonal pool sets enableCrossZoneUpgrade",
       _d("RollingUpgradePolicy", "enableCrossZoneUpgrade"), 3, _on(_POOL, ""), older=()),
    _r("pool-no-public-ip-forbids-nat-pools", "forbidden_if",
       {"properties": ["endpointConfiguration/inboundNATPools"],
        "when": [{"property": "publicIPAddressConfiguration/provision", "in": ["NoPublicIPAddresses"]}]},
       "A pool without public IP addresses has no inbound NAT pools",
       _d("BatchPoolEndpointConfiguration", "inboundNATPools"), 4,
       _on(["NetworkConfiguration", "NetworkConfigurationUpdate"], ""), older=()),
    _r("pool-public-ip-capacity", "capacity",
       {"items": "networkConfiguration/publicIPAddressConfiguration/ipAddressIds", "per_item": 100,
        "counts": ["targetDedicatedNodes", "targetLowPriorityNodes"]},
       "A pool lists one public IP per 100 dedicated (or per 100 Spot) target nodes",
       _d("BatchPublicIpAddressConfiguration", "ipAddressIds"), 2, _on(_POOL, ""), older=()),
    _r("vm-disk-encryption-type-needs-confidential", "forbidden_if",
       {"properties": ["osDisk/managedDisk/securityProfile/securityEncryptionType",
                       "dataDisks/*/managedDisk/securityProfile/securityEncryptionType"], "when": _NOT_CONFIDENTIAL},
       "Only a confidential VM sets a managed disk's securityEncryptionType",
       _d("BatchVmDiskSecurityProfile", "securityEncryptionType"), 3,
       _on(["VirtualMachineConfiguration", "VirtualMachineConfigurationUpdate"], ""), older=()),
    _r("vm-confidential-requires-disk-encryption-type", "required_if",
       {"any_of": ["osDisk/managedDisk/securityProfile/securityEncryptionType"],
        "when": [{"property": "securityProfile/securityType", "in": ["confidentialVM"]}]},
       "A confidential VM sets its OS disk's securityEncryptionType",
       _d("BatchVmDiskSecurityProfile", "securityEncryptionType"), 3,
       _on(["VirtualMachineConfiguration", "VirtualMachineConfigurationUpdate"], ""), older=()),
    _r("data-disk-no-vm-guest-state-encryption", "forbidden_values",
       {"values": ["DiskWithVMGuestState"], "ignore_case": True},
       "A data disk is not encrypted with DiskWithVMGuestState",
       "/definitions/SecurityEncryptionTypes/x-ms-enum/values/0/description", 2,
       [("DataDisk", "managedDisk/securityProfile/securityEncryptionType")], older=()),
    _r("disk-encryption-cmk-needs-os-disk-target", "forbidden_if",
       {"properties": ["customerManagedKey"], "when": [{"property": "targets", "contains": "osdisk", "negate": True}]},
       "A customer-managed disk key goes with the OS disk among the encryption targets",
       _d("DiskEncryptionConfiguration", "customerManagedKey"), 3, [("DiskEncryptionConfiguration", "")], older=()),
    # --- only in older versions (certificates went away; some values changed) -----------------------
    _r("inbound-nat-backend-port-range-2018", "range",
       {"min": 1, "max": 65535, "except": [[22, 22], [3389, 3389], [29876, 29877]]},
       "An inbound NAT backend port is 1..65535 and not one of the reserved 22, 3389, 29876, 29877",
       _d("InboundNATPool", "backendPort"), 2, [], older=[("InboundNATPool", "backendPort")], source_version=OLDER),
    _r("nsg-rule-priority-range-2018", "range", {"min": 150, "max": 3500},
       "A network security group rule priority is 150..3500",
       _d("NetworkSecurityGroupRule", "priority"), 5, [], older=[("NetworkSecurityGroupRule", "priority")],
       source_version=OLDER),
    _r("pool-os-configuration-exactly-one-2018", "mutually_exclusive",
       {"groups": [["cloudServiceConfiguration"], ["virtualMachineConfiguration"]], "exactly_one": True},
       "A pool has a cloud service or a virtual machine configuration, exactly one of them",
       _d("PoolAddParameter", "cloudServiceConfiguration"), 1, [],
       older=[("PoolAddParameter", ""), ("PoolSpecification", "")], source_version=OLDER),
    _r("certificate-password-required-for-pfx", "required_if",
       {"any_of": ["password"], "when": [{"property": "certificateFormat", "equals": "pfx"}]},
       "A pfx certificate comes with its password",
       _d("CertificateAddParameter", "password"), 1, [], older=[("CertificateAddParameter", "")],
       source_version=OLDER),
    _r("certificate-password-forbidden-for-cer", "forbidden_if",
       {"properties": ["password"], "when": [{"property": "certificateFormat", "equals": "cer"}]},
       "A cer certificate comes without a password",
       _d("CertificateAddParameter", "password"), 2, [], older=[("CertificateAddParameter", "")],
       source_version=OLDER),
)


# ---------------------------------------------------------------------------
# building


def build_overlay(bundles: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The overlay document; `bundles` (api-version -> bundle) resolve parameter targets to operations."""
    rules = []
    for spec in RULES:
        targets = {}
        current = _targets(spec.at, bundles.get(CURRENT))
        if current:
            targets[CURRENT] = current
        older = _older(spec)
        if older:
            targets[OLDER] = _targets(older, bundles.get(OLDER))
        rules.append(
            {
                "id": spec.id,
                "kind": spec.kind,
                "value": spec.value,
                "summary": spec.summary,
                "source": {"api_version": spec.source_version, "pointer": spec.source[0], "sentence": spec.source[1]},
                "targets": targets,
            }
        )
    return {"format": OVERLAY_FORMAT, "rules": rules}


def _older(spec: RuleSpec) -> tuple[tuple[str, str], ...]:
    if spec.older == MAP:
        seen: dict[tuple[str, str], None] = {}
        for name, path in spec.at:
            seen.setdefault((name if name == "param" else RENAMED_2018.get(name, name), path), None)
        return tuple(seen)
    return tuple(spec.older or ())


def _targets(pairs: Iterable[tuple[str, str]], bundle: Mapping[str, Any] | None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for name, path in pairs:
        if name == "param":
            out.extend({"operation": op, "parameter": p} for op, p in _operations_with(bundle, path))
        else:
            out.append({"definition": name, "path": path})
    return out


def _operations_with(bundle: Mapping[str, Any] | None, parameter: str) -> Iterator[tuple[str, str]]:
    """Every operation of `bundle` that takes `parameter` (a documented parameter rule holds wherever it appears)."""
    for op_id, op in sorted(((bundle or {}).get("operations") or {}).items()):
        for p in op["parameters"]:
            if p["name"].lower() == parameter.lower():
                yield op_id, p["name"]


def dumps_overlay(overlay: Mapping[str, Any]) -> str:
    """Deterministic text: sorted keys, one-space indent, trailing newline (the bundles' style)."""
    return json.dumps(overlay, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def load_bundles(directory: str | os.PathLike | None = None, versions: Iterable[str] = (CURRENT, OLDER)) -> dict:
    """The committed bundles the overlay is built against (they name the operations a parameter rule covers)."""
    directory = Path(directory) if directory is not None else default_bundle_dir()
    return {v: json.loads((directory / f"{v}.json").read_text(encoding="utf-8")) for v in versions}


def write_overlay(directory: str | os.PathLike | None = None) -> Path:
    """Regenerate `<schemas>/constraints.json` atomically from `RULES`."""
    directory = Path(directory) if directory is not None else default_bundle_dir()
    target = directory / OVERLAY_FILE
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(dumps_overlay(build_overlay(load_bundles(directory))), encoding="utf-8")
    os.replace(tmp, target)
    return target


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    print(write_overlay(sys.argv[1] if len(sys.argv) > 1 else None))
