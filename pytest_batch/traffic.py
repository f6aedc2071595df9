"""Tell Batch data-plane traffic from everything else recorded beside it.

Cassettes mix Batch calls with Azure Storage, Resource Manager and token
traffic. Only Batch calls are subject to the Batch contract; the rest is
recognised by host (or well-known path) and skipped with a reason, never failed.
Unknown hosts (`https://REDACTED`, `http://127.0.0.1:8080`, sanitised names)
count as Batch when the path or the api-version looks like Batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BATCH_HOST = re.compile(
    r"(?:^|\.)batch\.(?:azure\.com|chinacloudapi\.cn|usgovcloudapi\.net|cloudapi\.de|core\.windows\.net)$"
)
_OTHER_HOSTS = (
    (
        re.compile(
            r"\.blob\.(?:core\.windows\.net|core\.chinacloudapi\.cn|core\.usgovcloudapi\.net|storage\.azure\.net)$"
        ),
        "Azure Storage (blob)",
    ),
    (
        re.compile(r"\.(?:queue|table|file|dfs)\.core\.(?:windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$"),
        "Azure Storage",
    ),
    (
        re.compile(r"^management\.(?:azure\.com|core\.windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$"),
        "Azure Resource Manager",
    ),
    (
        re.compile(
            r"^(?:login\.microsoftonline\.com|login\.windows\.net|login\.chinacloudapi\.cn|login\.microsoftonline\.us|sts\.windows\.net)$"
        ),
        "Microsoft Entra token endpoint",
    ),
    (re.compile(r"^169\.254\.169\.254$"), "Azure Instance Metadata Service"),
    (re.compile(r"\.vault\.azure\.net$"), "Azure Key Vault"),
    (re.compile(r"\.azurecr\.io$"), "Azure Container Registry"),
)
_TOKEN_PATH = re.compile(
    r"/oauth2(?:/v2\.0)?/(?:token|authorize|devicecode)|/metadata/identity/oauth2/token|/\.well-known/openid-configuration",
    re.IGNORECASE,
)
_ARM_PATH = re.compile(r"^/subscriptions/[^/]+", re.IGNORECASE)
_BATCH_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}\.\d+\.\d+$|^20(?:2[5-9]|[3-9]\d)-\d{2}-\d{2}$")
_BATCH_FIRST_SEGMENTS = frozenset(
    {
        "jobs",
        "jobschedules",
        "pools",
        "applications",
        "certificates",
        "nodecounts",
        "poolusagemetrics",
        "supportedimages",
        "nodeagentskus",
        "lifetimejobstats",
        "lifetimepoolstats",
    }
)


@dataclass(frozen=True, slots=True)
class TrafficKind:
    """`batch` is True for Batch data-plane calls; otherwise `reason` says what the call is."""

    batch: bool
    reason: str = ""


BATCH = TrafficKind(True)


def classify_host(host: str) -> TrafficKind | None:
    """The verdict the host alone gives (Batch or a known other service), or None when undecided."""
    host = host.lower()
    if _BATCH_HOST.search(host):
        return BATCH
    for pattern, name in _OTHER_HOSTS:
        if pattern.search(host):
            return TrafficKind(False, name)
    return None


def classify(host: str, path: str, api_version: str | None) -> TrafficKind:
    """Is this request Batch data plane? Pure; host without port, raw path, api-version or None."""
    kind = classify_host(host)
    if kind is not None:
        return kind
    host = host.lower()
    if _TOKEN_PATH.search(path):
        return TrafficKind(False, "token endpoint")
    if _ARM_PATH.match(path):
        return TrafficKind(False, "Azure Resource Manager")
    head = path.lstrip("/").split("/", 1)[0].split("(", 1)[0].lower()
    if head in _BATCH_FIRST_SEGMENTS or (api_version and _BATCH_API_VERSION.match(api_version)):
        return BATCH
    return TrafficKind(False, f"not a Batch data-plane URL (host {host or '?'}, path {path or '/'})")
