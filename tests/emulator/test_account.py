"""Account-level operations: applications, supported images, node counts, usage metrics, and the
certificates of 2024-07-01.20.0 (validated against that version by the conftest)."""

from __future__ import annotations

import base64

import pytest

from pytest_batch.emulator.handlers.account import cores

V2024 = "2024-07-01.20.0"
VM = {
    "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
    "nodeAgentSKUId": "batch.node.ubuntu 22.04",
}
THUMB = "0123456789abcdef0123456789abcdef01234567"
CERT = f"/certificates(thumbprintAlgorithm=sha1,thumbprint={THUMB})"
DATA = base64.b64encode(b"public part of a certificate").decode()


def error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text
    return response.json()


def make_pool(raw, pool_id, **extra):
    body = {"id": pool_id, "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VM, **extra}
    assert raw("POST", "/pools", json=body).status_code == 201


# -- applications ---------------------------------------------------------------------------------------


def test_the_account_has_two_applications(raw, client):
    listed = raw("GET", "/applications").json()["value"]
    assert listed == [
        {"id": "app-python", "displayName": "Python runtime", "versions": ["3.11", "3.12"]},
        {"id": "app-tools", "displayName": "Build tools", "versions": ["1.0", "2.0"]},
    ]
    assert [a.id for a in client.list_applications()] == ["app-python", "app-tools"]
    assert client.get_application("APP-TOOLS").versions == ["1.0", "2.0"]
    error(raw("GET", "/applications/nope"), 404, "ApplicationNotFound")
    page = raw("GET", "/applications", params={"maxresults": 1}).json()
    assert [a["id"] for a in page["value"]] == ["app-python"] and "odata.nextLink" in page


# -- supported images -----------------------------------------------------------------------------------


def test_supported_images(raw, client):
    images = [i.as_dict() for i in client.list_supported_images()]
    assert len(images) == 7
    assert {i["osType"] for i in images} == {"linux", "windows"}
    jammy = next(i for i in images if i["imageReference"]["offer"] == "0001-com-ubuntu-server-jammy")
    assert (jammy["nodeAgentSKUId"], jammy["verificationType"]) == ("batch.node.ubuntu 22.04", "verified")
    windows = raw("GET", "/supportedimages", params={"$filter": "osType eq 'windows'"}).json()["value"]
    assert [i["imageReference"]["sku"] for i in windows] == ["2022-datacenter", "2019-datacenter"]
    assert raw("GET", "/supportedimages").json() == raw("GET", "/supportedimages").json()  # the same every time


# -- node counts ------------------------------------------------------------------------------------------


def test_node_counts_per_pool_and_state(raw, emulator):
    make_pool(raw, "a", targetDedicatedNodes=2, targetLowPriorityNodes=1)
    make_pool(raw, "b", targetDedicatedNodes=1)
    emulator.advance(5)
    counts = {c["poolId"]: c for c in raw("GET", "/nodecounts").json()["value"]}
    assert (counts["a"]["dedicated"]["starting"], counts["a"]["dedicated"]["total"]) == (2, 2)
    assert (counts["a"]["lowPriority"]["starting"], counts["a"]["lowPriority"]["total"]) == (1, 1)
    emulator.advance(5)
    raw("POST", "/pools/a/nodes/tvmps_1_d/reboot", json={})
    raw("POST", "/pools/b/nodes/tvmps_1_d/deallocate", json={})
    counts = {c["poolId"]: c for c in raw("GET", "/nodecounts").json()["value"]}
    dedicated = counts["a"]["dedicated"]
    assert (dedicated["idle"], dedicated["rebooting"], dedicated["total"]) == (1, 1, 2)
    assert counts["b"]["dedicated"]["deallocating"] == 1
    assert sum(counts["b"]["lowPriority"].values()) == 0
    only_b = raw("GET", "/nodecounts", params={"$filter": "poolId eq 'b'"}).json()["value"]
    assert [c["poolId"] for c in only_b] == ["b"]


# -- usage metrics ----------------------------------------------------------------------------------------


def test_usage_metrics_from_node_lifetimes(raw, emulator):
    make_pool(raw, "a", targetDedicatedNodes=2, vmSize="standard_d4s_v3")  # nodes join at 00:00:05
    emulator.advance(3600)  # 01:00:00
    metrics = raw("GET", "/poolusagemetrics").json()["value"]  # the last complete interval: 00:30-01:00
    assert metrics == [{"poolId": "a", "startTime": "2025-01-01T00:30:00Z", "endTime": "2025-01-01T01:00:00Z",
                        "vmSize": "standard_d4s_v3", "totalCoreHours": 4.0}]  # fmt: skip
    window = {"startTime": "2025-01-01T00:00:00Z", "endtime": "2025-01-01T01:00:00Z"}
    ranged = raw("GET", "/poolusagemetrics", params=window).json()["value"]
    assert [m["totalCoreHours"] for m in ranged] == [round(2 * 4 * (1800 - 5) / 3600, 6), 4.0]


def test_usage_keeps_nodes_that_left(raw, emulator):
    make_pool(raw, "a", targetDedicatedNodes=1)  # 2 cores from 00:00:05
    emulator.advance(905)  # 00:15:05
    raw("POST", "/pools/a/resize", json={"targetDedicatedNodes": 0})
    emulator.advance(1800)  # the node left at 00:15:10
    (metric,) = raw("GET", "/poolusagemetrics").json()["value"]
    assert metric["startTime"] == "2025-01-01T00:00:00Z"
    assert metric["totalCoreHours"] == round(2 * 905 / 3600, 6)


def test_usage_lists_only_pools_that_existed_in_the_interval(raw, emulator):
    emulator.advance(3600)
    make_pool(raw, "late", targetDedicatedNodes=0)
    assert raw("GET", "/poolusagemetrics").json()["value"] == []
    emulator.advance(1800)
    assert [m["poolId"] for m in raw("GET", "/poolusagemetrics").json()["value"]] == ["late"]


@pytest.mark.parametrize(("vm_size", "count"), [("standard_d2s_v3", 2), ("Standard_HB120rs_v3", 120),
                                                 ("standard_a1", 1), ("STANDARD_NC24ADS_A100_V4", 24),
                                                 ("small", 1)])  # fmt: skip
def test_cores_are_read_from_the_vm_size(vm_size, count):
    assert cores(vm_size) == count


# -- certificates (2024-07-01.20.0) ------------------------------------------------------------------------


def cert_call(raw, method, path, **kw):
    return raw(method, path, api_version=V2024, **kw)


def add_certificate(raw, **extra):
    body = {"thumbprint": THUMB, "thumbprintAlgorithm": "sha1", "data": DATA, "certificateFormat": "cer", **extra}
    return cert_call(raw, "POST", "/certificates", json=body)


def test_certificate_add_get_list(raw, exchanges):
    added = add_certificate(raw)
    assert added.status_code == 201
    assert added.headers["Location"].endswith(CERT)
    got = cert_call(raw, "GET", CERT).json()
    assert (got["thumbprint"], got["thumbprintAlgorithm"], got["state"]) == (THUMB, "sha1", "active")
    assert got["publicData"] == DATA  # a .cer is all public
    assert "data" not in got and "password" not in got and "previousState" not in got
    assert [c["thumbprint"] for c in cert_call(raw, "GET", "/certificates").json()["value"]] == [THUMB]
    error(add_certificate(raw), 409, "CertificateExists")
    pfx = THUMB.replace("0", "f")
    added = add_certificate(raw, thumbprint=pfx, certificateFormat="pfx", password="pfx-secret")
    assert added.status_code == 201
    got = cert_call(raw, "GET", f"/certificates(thumbprintAlgorithm=sha1,thumbprint={pfx})").json()
    assert "publicData" not in got
    assert not any(b"pfx-secret" in (i.response_body or b"") for i in exchanges.items)


@pytest.mark.parametrize(
    ("extra", "culprit"),
    [
        ({"thumbprintAlgorithm": "md5"}, "thumbprintAlgorithm"),
        ({"thumbprint": "abc"}, "thumbprint"),
        ({"data": "not base64!"}, "data"),
        ({"password": "x"}, "password"),  # a .cer has no password
    ],
)
def test_certificate_add_rules(raw, extra, culprit):
    found = error(add_certificate(raw, **extra), 400, "InvalidPropertyValue")
    assert {"key": "PropertyName", "value": culprit} in found["values"]


def test_certificate_delete_and_cancel(raw, emulator):
    add_certificate(raw)
    error(cert_call(raw, "POST", f"{CERT}/canceldelete"), 409, "CertificateStateActive")
    assert cert_call(raw, "DELETE", CERT).status_code == 202
    deleting = cert_call(raw, "GET", CERT).json()
    assert (deleting["state"], deleting["previousState"]) == ("deleting", "active")
    error(cert_call(raw, "DELETE", CERT), 409, "CertificateBeingDeleted")
    assert cert_call(raw, "POST", f"{CERT}/canceldelete").status_code == 204
    emulator.advance(5)  # the cancelled deletion does not happen
    assert cert_call(raw, "GET", CERT).json()["state"] == "active"
    cert_call(raw, "DELETE", CERT)
    emulator.advance(1)
    error(cert_call(raw, "GET", CERT), 404, "CertificateNotFound")
    error(cert_call(raw, "DELETE", CERT), 404, "CertificateNotFound")


def test_a_certificate_in_use_fails_to_delete(raw, emulator):
    add_certificate(raw)
    reference = {"thumbprint": THUMB.upper(), "thumbprintAlgorithm": "SHA1"}
    body = {"id": "uses-it", "vmSize": "standard_d2s_v3", "virtualMachineConfiguration": VM,
            "targetDedicatedNodes": 0, "certificateReferences": [reference]}  # fmt: skip
    assert cert_call(raw, "POST", "/pools", json=body).status_code == 201
    cert_call(raw, "DELETE", CERT)
    emulator.advance(1)
    failed = cert_call(raw, "GET", CERT).json()
    assert (failed["state"], failed["previousState"]) == ("deletefailed", "deleting")
    assert failed["deleteCertificateError"]["code"] == "PoolsReferencingCertificate"
    assert failed["deleteCertificateError"]["values"] == [{"name": "Pools", "value": "uses-it"}]
    assert cert_call(raw, "POST", f"{CERT}/canceldelete").status_code == 204
    active = cert_call(raw, "GET", CERT).json()
    assert active["state"] == "active" and "deleteCertificateError" not in active
    # once no pool uses it, it can go
    cert_call(raw, "POST", "/pools/uses-it/updateproperties",
              json={"certificateReferences": [], "applicationPackageReferences": [], "metadata": []})  # fmt: skip
    cert_call(raw, "DELETE", CERT)
    emulator.advance(1)
    error(cert_call(raw, "GET", CERT), 404, "CertificateNotFound")
