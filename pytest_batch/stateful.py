"""A Hypothesis state machine that drives the Job lifecycle against a Batch account and checks the documented
Job rules (`job_rules`) after every step.

Hypothesis chooses sequences of add, get, patch, put, disable, enable, terminate, delete, add task, task counts
and preparation/release status over a bundle of job ids (started from `SEED_JOBS`, documents modelled on the
spec's job-create examples), sometimes with an `If-Match` naming the current or an earlier ETag, sometimes
letting time pass so transitional states settle. Every exchange goes through the same fold the cassette
checker uses (`job_rules.advance`), so the machine and `check_sequence` cannot disagree about a rule.

The target is anything with `send`/`wait`/`close` (`JobTarget`). `HttpTarget` is signed raw HTTP to an
endpoint with a credential (an account key or an Entra ID token credential), so a real account works the same
as the emulator; `emulator_target()` starts an emulator on a manual clock whose `wait` is `Emulator.advance`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import quote

from .interaction import Headers, Interaction
from .job_rules import Classifier, JobObservation, RuleViolation, advance, select_rules

API_VERSION = "2025-06-01"
JSON_TYPE = "application/json; odata=minimalmetadata"
POOLS = ("pool-a", "pool-b")
ENDED = frozenset(
    ("terminating", "completed", "deleting", "gone")
)  # pools need not exist: a job's tasks wait for its pool

# The documents jobs start from: the spec's basic and complex job-create examples, cut to what a job without
# a running pool can hold (no auto pool, no job manager), plus one with preparation/release tasks and one that
# ends itself when its tasks are done.
SEED_JOBS: tuple[Mapping[str, Any], ...] = (
    MappingProxyType({"poolInfo": {"poolId": "pool-a"}}),
    MappingProxyType(
        {
            "poolInfo": {"poolId": "pool-a"},
            "priority": 100,
            "constraints": {"maxWallClockTime": "PT1H", "maxTaskRetryCount": -1},
            "metadata": [{"name": "myproperty", "value": "myvalue"}],
        }
    ),
    MappingProxyType(
        {
            "poolInfo": {"poolId": "pool-b"},
            "jobPreparationTask": {"commandLine": "/bin/sh -c 'echo prepare'"},
            "jobReleaseTask": {"commandLine": "/bin/sh -c 'echo release'"},
        }
    ),
    MappingProxyType(
        {
            "poolInfo": {"poolId": "pool-b"},
            "onAllTasksComplete": "terminatejob",
            "usesTaskDependencies": True,
            "maxParallelTasks": 2,
        }
    ),
)


class JobTarget(Protocol):
    """A Batch account the machine can drive."""

    def send(
        self, method: str, path: str, *, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> Interaction:
        """One request (`path` without the api-version) and its answer; status None when none came."""

    def wait(self, seconds: float) -> None:
        """Let `seconds` of service time pass (transitional states settle)."""

    def close(self) -> None: ...


class JobRulesBroken(AssertionError):
    """The target broke documented Job rules; `violations` says which, where."""

    def __init__(self, violations: tuple[RuleViolation, ...]) -> None:
        self.violations = violations
        lines = "\n".join(f"  {v.describe()}" for v in violations[:10])
        more = f"\n  ... and {len(violations) - 10} more" if len(violations) > 10 else ""
        super().__init__(f"{len(violations)} documented Job rule violation(s):\n{lines}{more}")

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.rule for v in self.violations))


class HttpTarget:
    """Signed raw HTTP to one Batch endpoint. `credential` is an azure-core `AzureNamedKeyCredential`
    (SharedKey) or a `TokenCredential` (Entra ID); `wait` is how service time passes (`time.sleep` for Azure)."""

    def __init__(
        self,
        url: str,
        credential: Any,
        *,
        api_version: str = API_VERSION,
        wait: Callable[[float], None] = time.sleep,
        on_close: Callable[[], None] | None = None,
        timeout: float = 60.0,
    ) -> None:
        import requests

        self.url = url.rstrip("/")
        self.api_version = api_version
        self._credential = credential
        self._wait = wait
        self._on_close = on_close
        self._timeout = timeout
        self._session = requests.Session()

    def send(
        self, method: str, path: str, *, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> Interaction:
        import requests

        separator = "&" if "?" in path else "?"
        url = f"{self.url}{path}{separator}api-version={self.api_version}"
        data = json.dumps(body).encode() if body is not None else b""
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = JSON_TYPE
        sent = self._sign(method, url, sent, data)
        try:
            answer = self._session.request(method, url, data=data, headers=sent, timeout=self._timeout)
        except requests.RequestException:
            return Interaction(method, url, Headers.of(sent), data)
        return Interaction(
            method, url, Headers.of(sent), data, answer.status_code, Headers.of(answer.headers.items()), answer.content
        )

    def _sign(self, method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
        named = getattr(self._credential, "named_key", None)
        if named is not None:
            from .targets import BatchEndpoint

            return BatchEndpoint(self.url, named.name, named.key, "azure").signed_headers(method, url, headers, body)
        token = self._credential.get_token("https://batch.core.windows.net/.default").token
        from email.utils import formatdate

        return {**headers, "ocp-date": formatdate(usegmt=True), "Authorization": f"Bearer {token}"}

    def wait(self, seconds: float) -> None:
        self._wait(seconds)

    def close(self) -> None:
        self._session.close()
        if self._on_close is not None:
            self._on_close()


def emulator_target(**emulator_options: Any) -> HttpTarget:
    """A fresh emulator on a `ManualClock` (unless `clock=` is given), served until `close()`; the target's
    `emulator` attribute is the running `Emulator`, for tests that tamper with it."""
    from .emulator import Emulator, ManualClock

    emulator_options.setdefault("clock", ManualClock())
    emulator = Emulator(**emulator_options).start()
    target = HttpTarget(emulator.endpoint, emulator.credential(), wait=emulator.advance, on_close=emulator.stop)
    target.emulator = emulator
    return target


def endpoint_target(endpoint: Any, **options: Any) -> HttpTarget:
    """A target for a `targets.BatchEndpoint` (e.g. a real account from `choose_target`)."""
    from .targets import credential_for

    return HttpTarget(endpoint.url, credential_for(endpoint), **options)


# -- the machine ------------------------------------------------------------------------------------------


def _strategies():
    """The drawn parts of requests: update bodies and If-Match choices (built once per machine class)."""
    from hypothesis import strategies as st

    metadata = st.lists(
        st.fixed_dictionaries({"name": st.sampled_from(("a", "b")), "value": st.text("xyz", max_size=3)}),
        max_size=2,
        unique_by=lambda m: m["name"],
    )
    updates = {
        "priority": st.integers(-1000, 1000),
        "maxParallelTasks": st.sampled_from((-1, 1, 4)),
        "onAllTasksComplete": st.sampled_from(("noaction", "terminatejob")),
        "constraints": st.fixed_dictionaries({"maxTaskRetryCount": st.integers(-1, 3)}),
        "metadata": metadata,
    }
    pool = st.sampled_from(POOLS).map(lambda pool_id: {"poolId": pool_id})
    patch = st.fixed_dictionaries({}, optional={**updates, "poolInfo": pool}).filter(bool)
    put = st.fixed_dictionaries({}, optional=updates)
    return patch, put, pool, st.sampled_from(("none", "current", "earlier"))


def job_lifecycle_machine(
    client_factory: Callable[[], JobTarget],
    *,
    seeds: Iterable[Mapping[str, Any]] = SEED_JOBS,
    settle_seconds: float = 2.0,
    skip_rules: Iterable[str] = (),
    prefix: str = "pbjob",
) -> type:
    """A `RuleBasedStateMachine` subclass driving jobs on the target `client_factory()` returns (one per example).

    `settle_seconds` is how long a settling step lets pass (the emulator's transitions take 1 s; Azure's
    take longer). `skip_rules` names `job_rules` ids not to check. Job ids are `<prefix>-<random>-<n>-<m>`,
    distinct across examples and runs, so a shared real account does not mix them up.
    """
    from hypothesis import strategies as st
    from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

    seeds = tuple(seeds)
    for index, seed in enumerate(seeds):
        if not isinstance(seed, Mapping) or "id" in seed or not isinstance(seed.get("poolInfo"), Mapping):
            raise ValueError(f"seed job {index}: give a job document with poolInfo and without an id (ids are drawn)")
    rules = select_rules(skip_rules)
    token = secrets.token_hex(3)
    examples = itertools.count()
    classifier = Classifier()
    patches, puts, pools, conditions = _strategies()
    seed_documents = st.sampled_from([json.loads(json.dumps(dict(seed))) for seed in seeds])

    class JobLifecycle(RuleBasedStateMachine):
        jobs = Bundle("jobs")

        def __init__(self) -> None:
            super().__init__()
            self.target = client_factory()
            self.example = next(examples)
            self.ledger: Mapping[str, JobObservation] = MappingProxyType({})
            self.violations: list[RuleViolation] = []
            self.history: list[Interaction] = []
            self.created = itertools.count()
            self.task_ids = itertools.count()

        # -- plumbing --------------------------------------------------------------------------------

        def _send(self, method: str, path: str, *, body: Any = None, headers: Mapping[str, str] | None = None):
            interaction = self.target.send(method, path, body=body, headers=headers)
            self.history.append(interaction)
            self.ledger, broken = advance(self.ledger, interaction, len(self.history) - 1, classifier, rules=rules)
            self.violations.extend(broken)
            return interaction

        def _look(self, job_id: str, settle: bool = False) -> None:
            """Observe the job after a step (after letting transitional states settle, if asked)."""
            if settle:
                self.target.wait(settle_seconds)
            self._send("GET", _job_path(job_id))

        def _known(self, job_id: str) -> JobObservation | None:
            return self.ledger.get(job_id.lower())

        def _condition(self, job_id: str, choice: str) -> dict[str, str]:
            known = self._known(job_id)
            if known is None or choice == "none":
                return {}
            if choice == "current" and known.etag:
                return {"If-Match": known.etag}
            if choice == "earlier" and known.old_etags:
                return {"If-Match": min(known.old_etags)}
            return {}

        def _pool(self, job_id: str) -> dict[str, Any]:
            known = self._known(job_id)
            belief = known.beliefs.get("poolInfo") if known is not None else None
            if belief is not None and isinstance(belief.value, Mapping) and belief.value.get("poolId"):
                return {"poolId": belief.value["poolId"]}
            return {"poolId": POOLS[0]}

        # -- the lifecycle ---------------------------------------------------------------------------

        @initialize(target=jobs, seed=seed_documents)
        def first_job(self, seed: dict[str, Any]) -> str:
            """Every example starts with a job, whichever rules swarm testing switches off."""
            return self.add(seed)

        @rule(target=jobs, seed=seed_documents)
        def add(self, seed: dict[str, Any]) -> str:
            job_id = f"{prefix}-{token}-{self.example}-{next(self.created)}"
            self._send("POST", "/jobs", body={"id": job_id, **seed})
            self._look(job_id)
            return job_id

        @rule(job=jobs, seed=seed_documents)
        def add_same_id(self, job: str, seed: dict[str, Any]) -> None:
            """Create again under the id in other letter case: ids are case-insensitive."""
            self._send("POST", "/jobs", body={"id": job.upper(), **seed})
            self._look(job)

        @rule(job=jobs, upper=st.booleans(), settle=st.booleans())
        def get(self, job: str, upper: bool, settle: bool) -> None:
            self._look(job.upper() if upper else job, settle)

        @rule(job=jobs, changes=patches, condition=conditions)
        def patch(self, job: str, changes: dict[str, Any], condition: str) -> None:
            self._send("PATCH", _job_path(job), body=changes, headers=self._condition(job, condition))
            self._look(job)

        @rule(job=jobs, changes=puts, other_pool=st.booleans(), pool=pools, condition=conditions)
        def put(self, job: str, changes: dict[str, Any], other_pool: bool, pool: dict, condition: str) -> None:
            body = {"poolInfo": pool if other_pool else self._pool(job), **changes}
            self._send("PUT", _job_path(job), body=body, headers=self._condition(job, condition))
            self._look(job)

        @rule(job=jobs, option=st.sampled_from(("requeue", "terminate", "wait")), settle=st.booleans(),
              condition=conditions)  # fmt: skip
        def disable(self, job: str, option: str, settle: bool, condition: str) -> None:
            headers = self._condition(job, condition)
            self._send("POST", _job_path(job, "disable"), body={"disableTasks": option}, headers=headers)
            self._look(job, settle)

        @rule(job=jobs, settle=st.booleans(), condition=conditions)
        def enable(self, job: str, settle: bool, condition: str) -> None:
            self._send("POST", _job_path(job, "enable"), headers=self._condition(job, condition))
            self._look(job, settle)

        @rule(job=jobs, reason=st.sampled_from((None, "done")), settle=st.booleans())
        def terminate(self, job: str, reason: str | None, settle: bool) -> None:
            body = {"terminateReason": reason} if reason else None
            self._send("POST", _job_path(job, "terminate"), body=body)
            self._look(job, settle)

        @rule(job=jobs, settle=st.booleans(), condition=conditions)
        def delete(self, job: str, settle: bool, condition: str) -> None:
            self._send("DELETE", _job_path(job), headers=self._condition(job, condition))
            self._look(job, settle)

        @rule(job=jobs, count=st.integers(1, 3), collection=st.booleans())
        def add_task(self, job: str, count: int, collection: bool) -> None:
            tasks = [
                {"id": f"task-{next(self.task_ids)}", "commandLine": "/bin/sh -c 'echo hello'"} for _ in range(count)
            ]
            if collection:
                self._send("POST", _job_path(job, "addtaskcollection"), body={"value": tasks})
            else:
                for task in tasks:
                    self._send("POST", _job_path(job, "tasks"), body=task)
            self._look(job)

        @rule(job=jobs)
        def task_counts(self, job: str) -> None:
            self._send("GET", _job_path(job, "taskcounts"))

        @rule(job=jobs)
        def preparation_status(self, job: str) -> None:
            self._send("GET", _job_path(job, "jobpreparationandreleasetaskstatus"))

        def _ended(self) -> list[str]:
            return sorted(k.job_id for k in self.ledger.values() if k.possible <= ENDED and k.possible != {"gone"})

        @precondition(lambda self: bool(self._ended()))
        @rule(data=st.data(), change=st.sampled_from(("disable", "enable", "terminate", "patch", "put", "add_task")))
        def change_an_ended_job(self, data: Any, change: str) -> None:
            """Aim at the refusal rules: change a job last seen terminating, completed or being deleted."""
            job = data.draw(st.sampled_from(self._ended()), label="job")
            if data.draw(st.booleans(), label="settle first"):
                self.target.wait(settle_seconds)
            if change == "disable":
                self.disable(job, data.draw(st.sampled_from(("requeue", "terminate", "wait"))), False, "none")
            elif change == "enable":
                self.enable(job, False, "none")
            elif change == "terminate":
                self.terminate(job, None, False)
            elif change == "patch":
                self.patch(job, data.draw(patches, label="changes"), "none")
            elif change == "put":
                self.put(job, data.draw(puts, label="changes"), False, {}, "none")
            else:
                self.add_task(job, 1, data.draw(st.booleans(), label="collection"))

        @rule(seconds=st.sampled_from((0.5, 1.0, settle_seconds)))
        def wait(self, seconds: float) -> None:
            self.target.wait(seconds)

        @invariant()
        def documented_rules_hold(self) -> None:
            if self.violations:
                raise JobRulesBroken(tuple(self.violations))

        def teardown(self) -> None:
            try:
                for known in self.ledger.values():
                    if known.possible - {"deleting", "gone"}:
                        self.target.send("DELETE", _job_path(known.job_id))
            finally:
                self.target.close()

    JobLifecycle.__name__ = JobLifecycle.__qualname__ = "JobLifecycle"
    return JobLifecycle


def _job_path(job_id: str, *rest: str) -> str:
    return "/jobs/" + quote(job_id, safe="") + "".join(f"/{part}" for part in rest)
