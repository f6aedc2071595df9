"""Every 2025-06-01 operation through the real azure-batch 15.1.0 SDK, sync and aio.

One scenario, written once as steps `(name, call)`; a runner for the sync client and one
for the aio client resolve what a step returns (pollers, pages, byte streams). The
emulator's tap records every exchange, the conftest validates each one against the spec
at teardown (0 findings required), and the test asserts that the exchanges covered all
72 operations of 2025-06-01.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

pytest.importorskip("azure.batch")

from azure.batch import models as m
from azure.batch.models._models import BatchJobTerminateOptions

from pytest_batch.emulator import ManualClock
from pytest_batch.spec import SpecLibrary

VERSION = "2025-06-01"
P = {"polling_interval": 0}


@pytest.fixture
def clock() -> ManualClock:
    # every request moves time on by a second, so the SDK's pollers see transitions complete
    return ManualClock(tick=timedelta(seconds=1))


def _vm() -> m.VirtualMachineConfiguration:
    return m.VirtualMachineConfiguration(
        image_reference=m.BatchVmImageReference(
            publisher="canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts", version="latest"
        ),
        node_agent_sku_id="batch.node.ubuntu 22.04",
        extensions=[m.VMExtension(name="ext-1", publisher="Microsoft.Azure.Extensions", type="CustomScript")],
    )


def steps(advance: Callable[[float], None]) -> list[tuple[str, Callable[[Any, dict], Any]]]:
    """The scenario. `ctx[name]` holds the resolved result of an earlier step."""
    node = lambda ctx: ctx["nodes"][0].id
    other = lambda ctx: ctx["nodes"][1].id
    return [
        # account level
        ("images", lambda c, ctx: c.list_supported_images()),
        ("apps", lambda c, ctx: c.list_applications()),
        ("app", lambda c, ctx: c.get_application(ctx["apps"][0].id)),
        # pools
        ("create_pool", lambda c, ctx: c.create_pool(m.BatchPoolCreateOptions(
            id="pool-1", vm_size="standard_d2s_v3", virtual_machine_configuration=_vm(), target_dedicated_nodes=2,
            metadata=[m.BatchMetadataItem(name="team", value="a")]))),
        ("pool_exists", lambda c, ctx: c.pool_exists("pool-1")),
        ("pool", lambda c, ctx: c.get_pool("pool-1")),
        ("pools", lambda c, ctx: c.list_pools()),
        ("update_pool", lambda c, ctx: c.update_pool("pool-1", m.BatchPoolUpdateOptions(
            metadata=[m.BatchMetadataItem(name="team", value="b")]))),
        ("replace_pool", lambda c, ctx: c.replace_pool_properties("pool-1", m.BatchPoolReplaceOptions(
            application_package_references=[], metadata=[]))),
        ("settle", lambda c, ctx: advance(60)),
        ("resize", lambda c, ctx: c.begin_resize_pool(
            "pool-1", m.BatchPoolResizeOptions(target_dedicated_nodes=3), **P)),
        ("stop_resize", lambda c, ctx: c.begin_stop_pool_resize("pool-1", **P)),
        ("settle", lambda c, ctx: advance(60)),
        ("nodes", lambda c, ctx: c.list_nodes("pool-1")),
        ("node", lambda c, ctx: c.get_node("pool-1", node(ctx))),
        ("node_counts", lambda c, ctx: c.list_pool_node_counts()),
        ("usage", lambda c, ctx: c.list_pool_usage_metrics()),
        ("autoscale_on", lambda c, ctx: c.enable_pool_auto_scale("pool-1", m.BatchPoolEnableAutoScaleOptions(
            auto_scale_formula="$TargetDedicatedNodes = 3;", auto_scale_evaluation_interval=timedelta(minutes=5)))),
        ("autoscale_eval", lambda c, ctx: c.evaluate_pool_auto_scale("pool-1", m.BatchPoolEvaluateAutoScaleOptions(
            auto_scale_formula="$TargetDedicatedNodes = 3;"))),
        ("autoscale_off", lambda c, ctx: c.disable_pool_auto_scale("pool-1")),
        ("settle", lambda c, ctx: advance(60)),
        # nodes
        ("sched_off", lambda c, ctx: c.disable_node_scheduling("pool-1", other(ctx), m.BatchNodeDisableSchedulingOptions(node_disable_scheduling_option="requeue"))),
        ("sched_on", lambda c, ctx: c.enable_node_scheduling("pool-1", other(ctx))),
        ("user", lambda c, ctx: c.create_node_user("pool-1", node(ctx), m.BatchNodeUserCreateOptions(
            name="alice", password="Passw0rd!", is_admin=False))),
        ("user_replace", lambda c, ctx: c.replace_node_user("pool-1", node(ctx), "alice",
                                                            m.BatchNodeUserReplaceOptions(password="N3wPassw0rd!"))),
        ("user_delete", lambda c, ctx: c.delete_node_user("pool-1", node(ctx), "alice")),
        ("login", lambda c, ctx: c.get_node_remote_login_settings("pool-1", node(ctx))),
        ("logs", lambda c, ctx: c.upload_node_logs("pool-1", node(ctx), m.UploadBatchServiceLogsOptions(
            container_url="https://store.blob.core.windows.net/logs?sp=w&sig=c2FzLXNpZ25hdHVyZQ", start_time=ctx["pool"].creation_time))),
        ("extensions", lambda c, ctx: c.list_node_extensions("pool-1", node(ctx))),
        ("extension", lambda c, ctx: c.get_node_extension("pool-1", node(ctx), "ext-1")),
        ("node_files", lambda c, ctx: c.list_node_files("pool-1", node(ctx), recursive=True)),
        ("node_file_props", lambda c, ctx: c.get_node_file_properties("pool-1", node(ctx), "startup/stdout.txt")),
        ("node_file", lambda c, ctx: c.download_node_file("pool-1", node(ctx), "startup/stdout.txt")),
        ("node_file_delete", lambda c, ctx: c.delete_node_file("pool-1", node(ctx), "startup/stderr.txt")),
        # jobs and tasks
        ("create_job", lambda c, ctx: c.create_job(m.BatchJobCreateOptions(
            id="job-1", pool_info=m.BatchPoolInfo(pool_id="pool-1"), uses_task_dependencies=True,
            job_preparation_task=m.BatchJobPreparationTask(command_line="/bin/sh -c 'echo prep'")))),
        ("job", lambda c, ctx: c.get_job("job-1")),
        ("jobs", lambda c, ctx: c.list_jobs()),
        ("update_job", lambda c, ctx: c.update_job("job-1", m.BatchJobUpdateOptions(priority=10))),
        ("replace_job", lambda c, ctx: c.replace_job("job-1", m.BatchJob(
            pool_info=m.BatchPoolInfo(pool_id="pool-1"), priority=20))),
        ("task", lambda c, ctx: c.create_task("job-1", m.BatchTaskCreateOptions(
            id="task-1", command_line="/bin/sh -c 'echo hello'"))),
        ("collection", lambda c, ctx: c.create_task_collection("job-1", m.BatchTaskGroup(task_values=[
            m.BatchTaskCreateOptions(id="task-2", command_line="/bin/sh -c 'exit 3'"),
            m.BatchTaskCreateOptions(id="task-3", command_line="/bin/true",
                                     depends_on=m.BatchTaskDependencies(task_ids=["task-1"]))]))),
        ("tasks", lambda c, ctx: c.list_tasks("job-1")),
        ("get_task", lambda c, ctx: c.get_task("job-1", "task-1")),
        ("replace_task", lambda c, ctx: c.replace_task("job-1", "task-3", m.BatchTask(
            constraints=m.BatchTaskConstraints(max_task_retry_count=1)))),
        ("settle", lambda c, ctx: advance(120)),
        ("task_files", lambda c, ctx: c.list_task_files("job-1", "task-1")),
        ("task_file_props", lambda c, ctx: c.get_task_file_properties("job-1", "task-1", "stdout.txt")),
        ("task_file", lambda c, ctx: c.download_task_file("job-1", "task-1", "stdout.txt")),
        ("task_file_delete", lambda c, ctx: c.delete_task_file("job-1", "task-1", "stderr.txt")),
        ("subtasks", lambda c, ctx: c.list_subtasks("job-1", "task-1")),
        ("reactivate", lambda c, ctx: c.reactivate_task("job-1", "task-2")),
        ("terminate_task", lambda c, ctx: c.terminate_task("job-1", "task-2")),
        ("delete_task", lambda c, ctx: c.delete_task("job-1", "task-3")),
        ("counts", lambda c, ctx: c.get_job_task_counts("job-1")),
        ("prep_release", lambda c, ctx: c.list_job_preparation_and_release_task_status("job-1")),
        ("disable_job", lambda c, ctx: c.begin_disable_job(
            "job-1", m.BatchJobDisableOptions(disable_tasks="requeue"), **P)),
        ("enable_job", lambda c, ctx: c.begin_enable_job("job-1", **P)),
        ("terminate_job", lambda c, ctx: c.begin_terminate_job("job-1", BatchJobTerminateOptions(termination_reason="done"), **P)),
        ("delete_job", lambda c, ctx: c.begin_delete_job("job-1", **P)),
        # job schedules
        ("create_schedule", lambda c, ctx: c.create_job_schedule(m.BatchJobScheduleCreateOptions(
            id="sched-1", schedule=m.BatchJobScheduleConfiguration(recurrence_interval=timedelta(hours=1)),
            job_specification=m.BatchJobSpecification(pool_info=m.BatchPoolInfo(pool_id="pool-1"))))),
        ("schedule_exists", lambda c, ctx: c.job_schedule_exists("sched-1")),
        ("schedule", lambda c, ctx: c.get_job_schedule("sched-1")),
        ("schedules", lambda c, ctx: c.list_job_schedules()),
        ("update_schedule", lambda c, ctx: c.update_job_schedule("sched-1", m.BatchJobScheduleUpdateOptions(
            metadata=[m.BatchMetadataItem(name="k", value="v")]))),
        ("replace_schedule", lambda c, ctx: c.replace_job_schedule("sched-1", m.BatchJobSchedule(
            schedule=m.BatchJobScheduleConfiguration(recurrence_interval=timedelta(hours=2)),
            job_specification=m.BatchJobSpecification(pool_info=m.BatchPoolInfo(pool_id="pool-1"))))),
        ("disable_schedule", lambda c, ctx: c.disable_job_schedule("sched-1")),
        ("enable_schedule", lambda c, ctx: c.enable_job_schedule("sched-1")),
        ("schedule_jobs", lambda c, ctx: c.list_jobs_from_schedule("sched-1")),
        ("terminate_schedule", lambda c, ctx: c.begin_terminate_job_schedule("sched-1", **P)),
        ("delete_schedule", lambda c, ctx: c.begin_delete_job_schedule("sched-1", **P)),
        # node power and removal, then the pool
        ("reboot", lambda c, ctx: c.begin_reboot_node("pool-1", node(ctx), {"nodeRebootOption": "requeue"}, **P)),
        ("reimage", lambda c, ctx: c.begin_reimage_node("pool-1", node(ctx), {"nodeReimageOption": "requeue"}, **P)),
        ("deallocate", lambda c, ctx: c.begin_deallocate_node("pool-1", node(ctx), {"nodeDeallocateOption": "requeue"}, **P)),
        ("start", lambda c, ctx: c.begin_start_node("pool-1", node(ctx), **P)),
        ("remove", lambda c, ctx: c.begin_remove_nodes(
            "pool-1", m.BatchNodeRemoveOptions(node_ids=[other(ctx)]), **P)),
        ("delete_pool", lambda c, ctx: c.begin_delete_pool("pool-1", **P)),
    ]  # fmt: skip


def _resolve_sync(value: Any) -> Any:
    if hasattr(value, "result") and hasattr(value, "done"):  # LROPoller
        return value.result()
    if hasattr(value, "by_page"):  # ItemPaged
        return list(value)
    if inspect.isgenerator(value) or type(value).__name__ == "StreamDownloadGenerator" or (
        hasattr(value, "__next__") and not isinstance(value, (str, bytes))
    ):
        return b"".join(value)
    return value


async def _resolve_async(value: Any) -> Any:
    if inspect.isawaitable(value):
        value = await value
    if hasattr(value, "result") and hasattr(value, "done"):  # AsyncLROPoller
        return await value.result()
    if hasattr(value, "by_page"):  # AsyncItemPaged
        return [item async for item in value]
    if hasattr(value, "__anext__"):
        return b"".join([chunk async for chunk in value])
    return value


def _covered(exchanges, contract) -> set[str]:
    return {contract.check(i).operation_id for i in exchanges.items}


def _check_results(ctx: dict) -> None:
    """A few facts the scenario must have produced (the contract check covers the shapes)."""
    assert ctx["pool_exists"] is True and ctx["schedule_exists"] is True
    assert ctx["pool"].id == "pool-1" and len(ctx["nodes"]) >= 2
    assert ctx["task_file"].startswith(b"") and ctx["task_file"]
    assert ctx["app"].id == ctx["apps"][0].id
    assert ctx["counts"].task_counts.completed >= 1


def test_every_operation_through_the_sync_sdk(emulator, client, exchanges, contract):
    ctx: dict[str, Any] = {}
    for name, call in steps(emulator.advance):
        ctx[name] = _resolve_sync(call(client, ctx))
    _check_results(ctx)
    every = set(SpecLibrary().get(VERSION).operations)
    assert every - _covered(exchanges, contract) == set()


def test_every_operation_through_the_aio_sdk(emulator, exchanges, contract):
    pytest.importorskip("aiohttp")
    from azure.batch.aio import BatchClient

    async def scenario() -> dict:
        ctx: dict[str, Any] = {}
        async with BatchClient(emulator.endpoint, emulator.credential()) as client:
            for name, call in steps(emulator.advance):
                ctx[name] = await _resolve_async(call(client, ctx))
        return ctx

    _check_results(asyncio.run(scenario()))
    every = set(SpecLibrary().get(VERSION).operations)
    assert every - _covered(exchanges, contract) == set()
