"""The reference scenario: every operation of api-version 2025-06-01 through azure-batch 15.1.0, one test per area.

Each test records to `cassettes/test_azure_batch_sdk/<test>.yaml` and replays from it in the normal suite,
where the plugin validates every interaction against the spec (strict). Each test creates what it needs under
fixed ids and deletes it again, so every cassette is a self-contained, readable unit that can be re-recorded
on its own. Time passes only through `settle` (see conftest.py, which also has the
command that re-records these cassettes); `begin_*` pollers get the endpoint's polling interval (0 in replay).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

pytest.importorskip("azure.batch")

from azure.batch import models as m
from azure.core.exceptions import ResourceNotFoundError

USER = "alice"
STARTUP = "/bin/sh -c 'echo ready'"


def _vm() -> m.VirtualMachineConfiguration:
    return m.VirtualMachineConfiguration(
        image_reference=m.BatchVmImageReference(
            publisher="canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts", version="latest"
        ),
        node_agent_sku_id="batch.node.ubuntu 22.04",
        extensions=[m.VMExtension(name="ext-1", publisher="Microsoft.Azure.Extensions", type="CustomScript")],
    )


def _create_pool(client, pool_id: str, nodes: int, settle, start_task: m.BatchStartTask | None = None) -> None:
    """A pool with `nodes` dedicated nodes, allocated and idle."""
    client.create_pool(
        m.BatchPoolCreateOptions(
            id=pool_id,
            vm_size="standard_d2s_v3",
            virtual_machine_configuration=_vm(),
            target_dedicated_nodes=nodes,
            metadata=[m.BatchMetadataItem(name="team", value="a")],
            start_task=start_task,
        )
    )
    settle(60)


def test_account(batch_client):
    """Account-wide catalogue reads: supported VM images and application packages."""
    images = list(batch_client.list_supported_images())
    assert images and all(image.node_agent_sku_id for image in images)
    apps = list(batch_client.list_applications())
    assert apps
    app = batch_client.get_application(apps[0].id)
    assert app.id == apps[0].id and app.versions


def test_pools(batch_client, batch_endpoint, settle):
    """A pool's life: create, exists, read, node counts, usage metrics, update, replace, resize and stop,
    autoscale on/evaluate/off, delete."""
    poll = {"polling_interval": batch_endpoint.polling_interval}
    _create_pool(batch_client, "ref-pool", 1, settle)
    assert batch_client.pool_exists("ref-pool") is True
    pool = batch_client.get_pool("ref-pool")
    assert pool.id == "ref-pool" and pool.allocation_state == "steady" and pool.current_dedicated_nodes == 1
    assert "ref-pool" in [p.id for p in batch_client.list_pools()]
    counts = {c.pool_id: c for c in batch_client.list_pool_node_counts()}
    assert counts["ref-pool"].dedicated.idle == 1
    settle(3600)  # a complete 30-minute usage interval with the pool in it
    usage = [u for u in batch_client.list_pool_usage_metrics() if u.pool_id == "ref-pool"]
    assert usage and usage[0].total_core_hours > 0
    batch_client.update_pool(
        "ref-pool", m.BatchPoolUpdateOptions(metadata=[m.BatchMetadataItem(name="team", value="b")])
    )
    assert [(i.name, i.value) for i in batch_client.get_pool("ref-pool").metadata] == [("team", "b")]
    batch_client.replace_pool_properties(
        "ref-pool", m.BatchPoolReplaceOptions(application_package_references=[], metadata=[])
    )
    assert not batch_client.get_pool("ref-pool").metadata

    batch_client.begin_resize_pool("ref-pool", m.BatchPoolResizeOptions(target_dedicated_nodes=2), **poll).result()
    batch_client.begin_stop_pool_resize("ref-pool", **poll).result()
    settle(60)
    assert batch_client.get_pool("ref-pool").allocation_state == "steady"

    formula = "$TargetDedicatedNodes = 2;"
    batch_client.enable_pool_auto_scale(
        "ref-pool",
        m.BatchPoolEnableAutoScaleOptions(
            auto_scale_formula=formula, auto_scale_evaluation_interval=timedelta(minutes=5)
        ),
    )
    run = batch_client.evaluate_pool_auto_scale(
        "ref-pool", m.BatchPoolEvaluateAutoScaleOptions(auto_scale_formula=formula)
    )
    assert "$TargetDedicatedNodes=2" in run.results
    batch_client.disable_pool_auto_scale("ref-pool")
    assert batch_client.get_pool("ref-pool").enable_auto_scale is False

    batch_client.begin_delete_pool("ref-pool", **poll).result()
    with pytest.raises(ResourceNotFoundError):  # gone (pool_exists would raise too: azure-batch 15.1.0 maps 404)
        batch_client.get_pool("ref-pool")


def test_nodes(batch_client, batch_endpoint, settle):
    """Compute nodes: list/read, scheduling, users, remote login, logs, extensions, files, power, removal."""
    poll = {"polling_interval": batch_endpoint.polling_interval}
    start = m.BatchStartTask(command_line=STARTUP, wait_for_success=True)
    _create_pool(batch_client, "ref-nodes", 2, settle, start_task=start)
    nodes = list(batch_client.list_nodes("ref-nodes"))
    assert len(nodes) == 2 and all(n.state == "idle" for n in nodes)
    node, other = nodes[0].id, nodes[1].id
    assert batch_client.get_node("ref-nodes", node).id == node

    batch_client.disable_node_scheduling(
        "ref-nodes", other, m.BatchNodeDisableSchedulingOptions(node_disable_scheduling_option="requeue")
    )
    assert batch_client.get_node("ref-nodes", other).scheduling_state == "disabled"
    batch_client.enable_node_scheduling("ref-nodes", other)

    batch_client.create_node_user(
        "ref-nodes", node, m.BatchNodeUserCreateOptions(name=USER, password="Passw0rd!", is_admin=False)
    )
    batch_client.replace_node_user("ref-nodes", node, USER, m.BatchNodeUserReplaceOptions(password="N3wPassw0rd!"))
    batch_client.delete_node_user("ref-nodes", node, USER)
    login = batch_client.get_node_remote_login_settings("ref-nodes", node)
    assert login.remote_login_ip_address and login.remote_login_port
    pool = batch_client.get_pool("ref-nodes")
    upload = batch_client.upload_node_logs(
        "ref-nodes",
        node,
        m.UploadBatchServiceLogsOptions(
            container_url="https://store.blob.core.windows.net/logs?sp=w&sig=c2FzLXNpZ25hdHVyZQ", start_time=pool.creation_time
        ),
    )
    assert upload.virtual_directory_name.startswith("ref-nodes/") and upload.number_of_files_uploaded >= 1

    assert [e.vm_extension.name for e in batch_client.list_node_extensions("ref-nodes", node)] == ["ext-1"]
    assert batch_client.get_node_extension("ref-nodes", node, "ext-1").vm_extension.name == "ext-1"

    files = [f.name for f in batch_client.list_node_files("ref-nodes", node, recursive=True)]
    assert "startup/stdout.txt" in files
    batch_client.get_node_file_properties("ref-nodes", node, "startup/stdout.txt")
    assert b"".join(batch_client.download_node_file("ref-nodes", node, "startup/stdout.txt")) == f"{STARTUP}\n".encode()
    batch_client.delete_node_file("ref-nodes", node, "startup/stderr.txt")

    batch_client.begin_reboot_node("ref-nodes", node, {"nodeRebootOption": "requeue"}, **poll).result()
    batch_client.begin_reimage_node("ref-nodes", node, {"nodeReimageOption": "requeue"}, **poll).result()
    batch_client.begin_deallocate_node("ref-nodes", node, {"nodeDeallocateOption": "requeue"}, **poll).result()
    assert batch_client.get_node("ref-nodes", node).state == "deallocated"
    batch_client.begin_start_node("ref-nodes", node, **poll).result()
    batch_client.begin_remove_nodes("ref-nodes", m.BatchNodeRemoveOptions(node_ids=[other]), **poll).result()
    assert [n.id for n in batch_client.list_nodes("ref-nodes")] == [node]
    batch_client.begin_delete_pool("ref-nodes", **poll).result()


def test_jobs(batch_client, batch_endpoint, settle):
    """A job's life: create, read, list, update, replace, task counts, disable/enable, terminate, delete."""
    poll = {"polling_interval": batch_endpoint.polling_interval}
    _create_pool(batch_client, "ref-jobs", 1, settle)
    batch_client.create_job(m.BatchJobCreateOptions(id="ref-job", pool_info=m.BatchPoolInfo(pool_id="ref-jobs")))
    assert batch_client.get_job("ref-job").state == "active"
    assert "ref-job" in [j.id for j in batch_client.list_jobs()]
    batch_client.update_job("ref-job", m.BatchJobUpdateOptions(priority=10))
    assert batch_client.get_job("ref-job").priority == 10
    batch_client.replace_job("ref-job", m.BatchJob(pool_info=m.BatchPoolInfo(pool_id="ref-jobs"), priority=20))
    assert batch_client.get_job("ref-job").priority == 20
    assert batch_client.get_job_task_counts("ref-job").task_counts.active == 0

    batch_client.begin_disable_job("ref-job", m.BatchJobDisableOptions(disable_tasks="requeue"), **poll).result()
    assert batch_client.get_job("ref-job").state == "disabled"
    batch_client.begin_enable_job("ref-job", **poll).result()
    batch_client.begin_terminate_job("ref-job", {"terminateReason": "done"}, **poll).result()  # not in models
    job = batch_client.get_job("ref-job")
    assert job.state == "completed" and job.execution_info.termination_reason == "done"
    batch_client.begin_delete_job("ref-job", **poll).result()
    batch_client.begin_delete_pool("ref-jobs", **poll).result()


def test_tasks(batch_client, batch_endpoint, settle):
    """Tasks in a job with a preparation task: add one and a collection, run them, read their files, then
    replace, reactivate, terminate and delete; the job's preparation task status and counts."""
    poll = {"polling_interval": batch_endpoint.polling_interval}
    _create_pool(batch_client, "ref-tasks", 2, settle)
    batch_client.create_job(
        m.BatchJobCreateOptions(
            id="ref-task-job",
            pool_info=m.BatchPoolInfo(pool_id="ref-tasks"),
            uses_task_dependencies=True,
            job_preparation_task=m.BatchJobPreparationTask(command_line="/bin/sh -c 'echo prep'"),
        )
    )
    batch_client.create_task("ref-task-job", m.BatchTaskCreateOptions(id="hello", command_line="/bin/sh -c 'echo hi'"))
    added = batch_client.create_task_collection(
        "ref-task-job",
        m.BatchTaskGroup(
            task_values=[
                m.BatchTaskCreateOptions(id="fails", command_line="/bin/sh -c 'exit 3'"),
                m.BatchTaskCreateOptions(
                    id="after-hello", command_line="/bin/true", depends_on=m.BatchTaskDependencies(task_ids=["hello"])
                ),
            ]
        ),
    )
    assert sorted((r.task_id, r.status) for r in added.result_values) == [
        ("after-hello", "success"),
        ("fails", "success"),
    ]
    assert sorted(t.id for t in batch_client.list_tasks("ref-task-job")) == ["after-hello", "fails", "hello"]
    assert batch_client.get_task("ref-task-job", "hello").command_line == "/bin/sh -c 'echo hi'"
    batch_client.replace_task(
        "ref-task-job", "after-hello", m.BatchTask(constraints=m.BatchTaskConstraints(max_task_retry_count=1))
    )
    settle(120)

    hello = batch_client.get_task("ref-task-job", "hello")
    assert hello.state == "completed" and hello.execution_info.exit_code == 0
    assert "stdout.txt" in [f.name for f in batch_client.list_task_files("ref-task-job", "hello")]
    batch_client.get_task_file_properties("ref-task-job", "hello", "stdout.txt")
    assert b"".join(batch_client.download_task_file("ref-task-job", "hello", "stdout.txt")) == b"/bin/sh -c 'echo hi'\n"
    batch_client.delete_task_file("ref-task-job", "hello", "stderr.txt")
    assert list(batch_client.list_subtasks("ref-task-job", "hello")) == []
    statuses = list(batch_client.list_job_preparation_and_release_task_status("ref-task-job"))
    assert statuses and all(s.job_preparation_task_execution_info.state == "completed" for s in statuses)
    assert batch_client.get_job_task_counts("ref-task-job").task_counts.completed >= 1

    assert batch_client.get_task("ref-task-job", "fails").execution_info.exit_code == 3
    batch_client.reactivate_task("ref-task-job", "fails")
    batch_client.terminate_task("ref-task-job", "fails")
    assert batch_client.get_task("ref-task-job", "fails").state == "completed"
    batch_client.delete_task("ref-task-job", "after-hello")
    batch_client.begin_delete_job("ref-task-job", **poll).result()
    batch_client.begin_delete_pool("ref-tasks", **poll).result()


def test_job_schedules(batch_async_client, batch_endpoint):
    """Job schedules through the aio client: create, exists, read, list, update, replace, disable/enable,
    the jobs it made, terminate, delete."""
    poll = {"polling_interval": batch_endpoint.polling_interval}
    spec = m.BatchJobSpecification(pool_info=m.BatchPoolInfo(pool_id="ref-schedules"))

    async def scenario() -> None:
        async with batch_async_client as c:
            await c.create_job_schedule(
                m.BatchJobScheduleCreateOptions(
                    id="ref-schedule",
                    schedule=m.BatchJobScheduleConfiguration(recurrence_interval=timedelta(hours=1)),
                    job_specification=spec,
                )
            )
            assert await c.job_schedule_exists("ref-schedule") is True
            assert (await c.get_job_schedule("ref-schedule")).state == "active"
            assert "ref-schedule" in [s.id async for s in c.list_job_schedules()]
            await c.update_job_schedule(
                "ref-schedule", m.BatchJobScheduleUpdateOptions(metadata=[m.BatchMetadataItem(name="k", value="v")])
            )
            await c.replace_job_schedule(
                "ref-schedule",
                m.BatchJobSchedule(
                    schedule=m.BatchJobScheduleConfiguration(recurrence_interval=timedelta(hours=2)),
                    job_specification=spec,
                ),
            )
            schedule = await c.get_job_schedule("ref-schedule")
            assert schedule.schedule.recurrence_interval == timedelta(hours=2) and not schedule.metadata
            await c.disable_job_schedule("ref-schedule")
            assert (await c.get_job_schedule("ref-schedule")).state == "disabled"
            await c.enable_job_schedule("ref-schedule")
            made = [j.id async for j in c.list_jobs_from_schedule("ref-schedule")]
            assert made == ["ref-schedule:job-1"]  # the first recurrence started when the schedule was created
            await (await c.begin_terminate_job_schedule("ref-schedule", **poll)).result()
            assert (await c.get_job_schedule("ref-schedule")).state == "completed"
            await (await c.begin_delete_job_schedule("ref-schedule", **poll)).result()
            with pytest.raises(ResourceNotFoundError):
                await c.get_job_schedule("ref-schedule")

    asyncio.run(scenario())
