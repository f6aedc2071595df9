"""What an operation needs to exist before it can be called, and what that costs.

Read from the operation's path template (`{jobId}` needs a job, `{nodeId}` a compute node...) plus
the few actions that need more than their path says (removing nodes needs nodes). The prober picks,
for every target, the cheapest operation that carries it; anything that needs compute nodes is
billable on a real account.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from ..spec import Operation

# what each path parameter stands for (names shared by every api-version)
PATH_NEEDS = MappingProxyType(
    {
        "jobId": "job",
        "poolId": "pool",
        "jobScheduleId": "schedule",
        "taskId": "task",
        "nodeId": "node",
        "filePath": "file",
        "userName": "user",
        "applicationId": "application",
        "thumbprint": "certificate",
        "thumbprintAlgorithm": "certificate",
        "extensionName": "extension",
    }
)
# what the prober can create, and a cost to rank operations by (nodes cost most: they are billable)
COSTS = MappingProxyType(
    {
        "job": 1,
        "pool": 1,
        "schedule": 1,
        "autoscale": 1,
        "disabled": 1,
        "package": 0,
        "task": 2,
        "node": 20,
        "file": 25,
    }
)
BILLABLE = frozenset({"node", "file"})
# what the prober cannot create through the data plane (applications come from ARM, node users and
# extensions need a live node agent, certificates were retired)
UNSUPPORTED = frozenset({"user", "application", "certificate", "extension"})

_PARAM = re.compile(r"\{([^}]+)\}")


def needs_of(op: Operation) -> frozenset[str]:
    """The prerequisites of `op`: path parameters, plus nodes for removing nodes, autoscale for its actions."""
    needs = {PATH_NEEDS.get(name, name) for name in _PARAM.findall(op.path)}
    tail = op.path.rsplit("/", 1)[-1].lower()
    if tail == "removenodes":
        needs.add("node")
    if tail in ("evaluateautoscale", "disableautoscale", "enableautoscale"):  # the formula is already there
        needs.discard("pool")
        needs.add("autoscale")
    if op.method in ("PATCH", "PUT") and re.fullmatch(r"/jobs/\{jobId\}", op.path):
        needs.add("disabled")  # a job's pool can only change while it is disabled
    if "file" in needs:
        needs.update(("node",) if "node" in needs else ("job", "task"))
    if "task" in needs:
        needs.add("job")
    return frozenset(needs)


def cost(op: Operation) -> float:
    """Creation cost of `op`'s prerequisites (infinite when one cannot be created); reads are cheaper than writes."""
    needs = needs_of(op)
    if needs & UNSUPPORTED or not needs <= COSTS.keys():
        return float("inf")
    return sum(COSTS[n] for n in needs) + (0 if op.method in ("GET", "HEAD") else 0.5)


def unsupported(op: Operation) -> str | None:
    """Why the prober cannot reach `op`, or None."""
    missing = sorted(n for n in needs_of(op) if n in UNSUPPORTED or n not in COSTS)
    if missing:
        return f"{op.operation_id} needs {', '.join(missing)}, which the prober cannot create"
    return None
