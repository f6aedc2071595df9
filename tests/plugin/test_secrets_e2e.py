"""Planted secrets never reach disk: end to end through the plugin's recording path (pytester, real HTTP).

A pytester project records with `--batch-record-mode=once` against the real embedded emulator (which echoes
pool, job and task definitions back) and against a real stdlib HTTP proxy server that plays Batch, Storage,
Resource Manager and Entra token endpoints and answers with planted secrets. Every kind in `KINDS` is checked
twice: it went over the wire (the inner tests log what they sent and got, outside the cassette folder) and no
form of it (raw, percent-encoded once or twice, `+`-encoded) is anywhere under `cassettes/`, neither in the
bytes nor in the YAML's parsed strings. Replay then passes with no server running, so sanitising kept the
recordings matchable. Custom rules (fixture override and conftest hook), fail-closed refusal of a secret no
rule covers, and refusal of a hand-edited cassette are proved the same way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml

from pytest_batch.emulator import default_key

pytest_plugins = ["pytester"]

RUN = ("-p", "no:cacheprovider", "-q", "-W", "ignore::DeprecationWarning")


# --------------------------------------------------------------------------- the planted secrets


def _b64(label: str, size: int) -> str:
    """Deterministic base64 of `size` bytes: 32 → a SharedKey/SAS signature, 64 → an account key."""
    digest = hashlib.sha512(label.encode()).digest() + hashlib.sha512(label.encode() + b"+").digest()
    return base64.b64encode(digest[:size]).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(label: str) -> str:
    header = _b64url(b'{"alg":"RS256","typ":"JWT"}')
    claims = _b64url(json.dumps({"aud": "https://batch.core.windows.net/", "oid": label}).encode())
    return f"{header}.{claims}.{_b64url(hashlib.sha256(label.encode()).digest())}"


def _guid(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"planted:{label}"))


def _pfx(label: str) -> str:
    """A PKCS#12-looking blob: DER SEQUENCE header (base64 `MII…`), well over the scanner's 200 characters."""
    body = b"".join(hashlib.sha512(f"{label}{i}".encode()).digest() for i in range(6))
    return base64.b64encode(b"\x30\x82\x01\x80" + body).decode()


@dataclass(frozen=True)
class Kind:
    name: str
    where: str
    value: str


KINDS = (
    # Authorization headers (fake Batch host through the proxy)
    Kind("shared_key_signature", "request header Authorization: SharedKey <account>:<sig>", _b64("sharedkey", 32)),
    Kind("shared_key_account", "the account named in that SharedKey header", "plantedauth05"),
    Kind("bearer_jwt", "request header Authorization: Bearer <JWT>", _jwt("bearer")),
    Kind("auxiliary_bearer_jwt", "request header x-ms-authorization-auxiliary: Bearer <JWT>", _jwt("auxiliary")),
    # the account name in hosts, response headers and bodies
    Kind("account_in_request_host", "request URL host <account>.westus.batch.azure.com", "plantedhost01"),
    Kind("account_in_dataserviceid", "response headers DataServiceId and Location", "planteddsid02"),
    Kind("account_in_odata_metadata", "response body odata.metadata", "plantedodata03"),
    Kind("account_in_url_property", "response body url", "plantedurl04"),
    # SAS: query strings, headers, XML, nested URLs
    Kind("sas_sig_query", "request query sig= (blob GET/PUT)", _b64("blob-sig", 32)),
    Kind("sas_skdutid_query", "request query skdutid=", _guid("skdutid")),
    Kind("sas_saoid_query", "request query saoid=", _guid("saoid")),
    Kind("sas_suoid_query", "request query suoid=", _guid("suoid")),
    Kind("sas_in_request_header", "request header x-ms-copy-source: <SAS URL>", _b64("copy-source-request", 32)),
    Kind("sas_in_response_header", "response header x-ms-copy-source: <SAS URL>", _b64("copy-source-response", 32)),
    Kind("sas_in_storage_xml", "response XML body <Url>…&amp;sig=…</Url>", _b64("xml-sig", 32)),
    Kind(
        "sas_nested_in_url", "request query: a SAS URL percent-encoded in another URL (%26sig%3D)", _b64("nested", 32)
    ),
    # SAS inside Batch JSON bodies (the emulator stores them and echoes them back on GET)
    Kind("start_task_resource_file_sas", "pool startTask.resourceFiles[].httpUrl (emulator)", _b64("start-task", 32)),
    Kind("task_resource_container_sas", "task resourceFiles[].storageContainerUrl (emulator)", _b64("task-res", 32)),
    Kind("output_files_container_sas", "task outputFiles[].destination.container.containerUrl sig", _b64("out", 32)),
    Kind("output_files_skoid", "skoid= in that containerUrl (emulator)", _guid("skoid")),
    Kind("output_files_sktid", "sktid= in that containerUrl (emulator)", _guid("sktid")),
    Kind("upload_logs_container_sas", "uploadbatchservicelogs request body containerUrl", _b64("upload-logs", 32)),
    Kind("application_package_sas", "ARM application package response storageUrl", _b64("app-package", 32)),
    # certificates, passwords, mount keys
    Kind("certificate_data", "Certificate_Add request body data (PFX, emulator)", _pfx("certificate")),
    Kind("certificate_password", "Certificate_Add request body password (emulator)", "Pl4nted-CertPfx-pw!91"),
    Kind("user_account_password", "pool userAccounts[].password (emulator echoes)", "Pl4nted-UserAcct-pw!27"),
    Kind("container_registry_password", "pool containerRegistries[].password (emulator echoes)", "Pl4nted-Acr-pw!63"),
    Kind("task_registry_password", "startTask.containerSettings.registry.password (emulator)", "Pl4nted-TaskAcr-pw!8"),
    Kind("mount_account_key", "pool mountConfiguration azureFileShare accountKey (emulator)", _b64("mount-key", 64)),
    Kind("mount_sas_key", "pool mountConfiguration azureBlobFileSystem sasKey sig (emulator)", _b64("mount-sas", 32)),
    Kind("cifs_mount_password", "pool mountConfiguration cifsMountConfiguration password", "Pl4nted-Cifs-pw!44"),
    Kind("node_user_password", "node user create request body password", "Pl4nted-NodeUser-pw!15"),
    Kind("connection_string_key", "job environment setting AccountKey=… (emulator)", "Pl4ntedConnStringKey0dd"),
    # token endpoints and Resource Manager
    Kind("token_client_secret", "token form body client_secret=", "Q8~Pl4nted.ClientSecret_8f2a91"),
    Kind("token_client_assertion", "token form body client_assertion=<JWT>", _jwt("client-assertion")),
    Kind("token_refresh_token_form", "token form body refresh_token=", "0.ARpl4nted-refresh-form.AgABAAEAAAD"),
    Kind("token_ropc_password", "token form body password= (resource owner grant)", "Pl4nted-Ropc-pw!70"),
    Kind("token_access_token", "token JSON response access_token (JWT)", _jwt("access-token")),
    Kind("token_refresh_token", "token JSON response refresh_token (opaque)", "0.ARpl4nted-refresh-json.AgABAAEAAAD"),
    Kind("token_id_token", "token JSON response id_token (JWT)", _jwt("id-token")),
    Kind("arm_primary_key", "Batch listKeys response primary", _b64("primary", 64)),
    Kind("arm_secondary_key", "Batch listKeys response secondary", _b64("secondary", 64)),
    Kind("set_cookie", "response header Set-Cookie", "Pl4ntedAffinityCookie5e6f"),
)
SECRETS = {kind.name: kind.value for kind in KINDS}
IDS = ("job-secrets-1", "pool-secrets-1", "task-secrets-1", "tvm-1")


def forms(value: str) -> set[str]:
    """Every way a value can be written down in a cassette: as is, percent-encoded once or twice, `+`-encoded."""
    once = quote(value, safe="")
    return {value, once, quote(once, safe=""), quote_plus(value), quote(value)}


# --------------------------------------------------------------------------- the pytester project

# Helpers the inner project imports (rendered after `S = {...}` into planted.py).
PLANTED_HELPERS = """
from urllib.parse import quote

API = "api-version=2025-06-01"
CERT_API = "api-version=2024-07-01.20.0"
SV = "sv=2022-11-02&se=2031-01-01T00%3A00%3A00Z"


def q(value):
    return quote(value, safe="")


def sas(container, sig, extra=""):
    return f"https://sa.blob.core.windows.net/{container}?{SV}&sr=c&sp=rwl{extra}&sig={q(sig)}"


def batch_host(path, account=None):
    return f"http://{account or S['account_in_request_host']}.westus.batch.azure.com{path}"
"""

# A real HTTP server (stdlib, in a thread) used as an HTTP proxy: requests send it absolute URLs for
# Batch/Storage/ARM/Entra hosts, which vcrpy records as the URI. It only starts when the test records.
CONFTEST = '''
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from planted import API, BODIES, S, SV, q, sas

DSID = f"https://{S['account_in_dataserviceid']}.westus.batch.azure.com"


def _json(status, document, headers=()):
    body = json.dumps(document).encode()
    return status, [("Content-Type", "application/json;odata=minimalmetadata"), *headers], body


def reply(method, url, headers, body):
    """The planted answer for one request (status, headers, body)."""
    parts = urlsplit(url)
    host, path = parts.hostname or "", parts.path
    if host.endswith(".batch.azure.com"):
        if (method, path) == ("POST", "/jobs"):
            job = f"{DSID}/jobs/job-secrets-1"
            return 201, [("DataServiceId", job), ("Location", job), ("ETag", "0x8DD01")], b""
        if (method, path) == ("GET", "/jobs/job-secrets-1"):
            return _json(200, {
                "odata.metadata": f"https://{S['account_in_odata_metadata']}.westus.batch.azure.com"
                "/$metadata#jobs/@Element",
                "id": "job-secrets-1",
                "url": f"https://{S['account_in_url_property']}.westus.batch.azure.com/jobs/job-secrets-1",
                "poolInfo": {"poolId": "pool-secrets-1"},
                "state": "active",
            })
        if path.endswith("/uploadbatchservicelogs"):
            return _json(200, {"virtualDirectoryName": "pool-secrets-1/tvm-1/x", "numberOfFilesUploaded": 2})
        if (method, path) == ("POST", "/pools/pool-secrets-1/nodes/tvm-1/users"):
            return 201, [("DataServiceId", f"{DSID}/pools/pool-secrets-1/nodes/tvm-1/users/ops")], b""
        if method == "GET" and path.startswith("/pools/"):
            pool = path.rsplit("/", 1)[1]
            return _json(200, {"id": pool, **BODIES.get(pool, {})})
    if host.endswith(".blob.core.windows.net"):
        if method == "PUT":
            return 202, [("x-ms-copy-status", "pending")], b""
        if "comp=list" in parts.query:
            xml = ("<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?><EnumerationResults><Blobs><Blob><Name>a.csv</Name>"
                   f"<Url>https://sa.blob.core.windows.net/input/a.csv?sv=2022-11-02&amp;sr=b&amp;"
                   f"sig={q(S['sas_in_storage_xml'])}</Url></Blob></Blobs></EnumerationResults>")
            return 200, [("Content-Type", "application/xml")], xml.encode()
        copy_source = f"https://src.blob.core.windows.net/c/b.csv?{SV}&sr=b&sp=r&sig={q(S['sas_in_response_header'])}"
        return 200, [
            ("Content-Type", "text/csv"),
            ("x-ms-copy-source", copy_source),
            ("Set-Cookie", f"ARRAffinity={S['set_cookie']}; Path=/; HttpOnly"),
        ], b"a,b\\n1,2\\n"
    if host == "login.microsoftonline.com":
        form = parse_qs(body.decode())
        token = {"token_type": "Bearer", "expires_in": 3599, "access_token": S["token_access_token"]}
        if form.get("grant_type") == ["refresh_token"]:
            token.update(refresh_token=S["token_refresh_token"], id_token=S["token_id_token"])
        return _json(200, token)
    if host == "management.azure.com":
        if path.endswith("/listKeys"):
            return _json(200, {"accountName": "armacct", "primary": S["arm_primary_key"],
                               "secondary": S["arm_secondary_key"]})
        if "/versions/" in path:
            return _json(200, {"id": path, "name": "3.11", "properties": {
                "state": "Active", "storageUrl": sas("app-python-3-11", S["application_package_sas"]),
                "storageUrlExpiry": "2031-01-01T00:00:00Z"}})
    return _json(404, {"code": "NotPlanted", "message": f"{method} {url}"})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, data = reply(self.command, self.path, self.headers, body)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _any

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy(batch_endpoint):
    """The planted-secrets server's URL while recording; a dead port in replay (nothing may be reached)."""
    if not batch_endpoint.live:
        yield "http://127.0.0.1:9"
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Wire:
    """Sends requests and, while recording, logs exactly what crossed the wire to wire.jsonl (outside cassettes/)."""

    def __init__(self, endpoint, proxy, log):
        self.endpoint, self.proxy, self.log = endpoint, proxy, log
        self.session = requests.Session()
        self.session.trust_env = False

    def batch(self, method, path, body=None, api=API):
        """A SharedKey-signed call to the account the plugin chose (the emulator, or the replay placeholder)."""
        url = f"{self.endpoint.url}{path}?{api}"
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json; odata=minimalmetadata"} if body is not None else {}
        return self.send(method, url, self.endpoint.signed_headers(method, url, headers, data), data)

    def proxied(self, method, url, headers=None, data=b""):
        return self.send(method, url, headers or {}, data, {"http": self.proxy})

    def send(self, method, url, headers, data, proxies=None):
        response = self.session.request(method, url, headers=headers, data=data, proxies=proxies, timeout=20)
        if self.endpoint.live:
            with open(self.log, "a", encoding="utf-8") as log:
                log.write(json.dumps({
                    "request": [method, url, dict(headers), data.decode() if isinstance(data, bytes) else data],
                    "response": [response.status_code, dict(response.headers), response.text],
                }) + "\\n")
        return response


@pytest.fixture
def wire(request, batch_endpoint, proxy):
    yield Wire(batch_endpoint, proxy, request.config.rootpath / "wire.jsonl")
'''

TEST_PLANTED = '''
import json

import pytest
from planted import CERT_API, S, SV, batch_host, q, sas


def test_emulator_echoes_planted_secrets(wire):
    """Real emulator, strict contract: it stores pool/job/task definitions and sends the secrets back."""
    pool = {
        "id": "pool-secrets-1",
        "vmSize": "standard_d2s_v3",
        "virtualMachineConfiguration": {
            "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
            "nodeAgentSKUId": "batch.node.ubuntu 22.04",
            "containerConfiguration": {"type": "dockerCompatible", "containerRegistries": [
                {"registryServer": "https://plantedreg.azurecr.io", "username": "puller",
                 "password": S["container_registry_password"]}]},
        },
        "targetDedicatedNodes": 0,
        "userAccounts": [{"name": "ops", "password": S["user_account_password"]}],
        "startTask": {
            "commandLine": "/bin/sh -c setup.sh",
            "resourceFiles": [{"httpUrl": sas("setup", S["start_task_resource_file_sas"]), "filePath": "setup.sh"}],
            "containerSettings": {"imageName": "plantedreg.azurecr.io/tools:1", "registry": {
                "registryServer": "https://plantedreg.azurecr.io", "username": "puller",
                "password": S["task_registry_password"]}},
        },
        "mountConfiguration": [
            {"azureFileShareConfiguration": {"accountName": "sa", "azureFileUrl": "https://sa.file.core.windows.net/s",
                                             "accountKey": S["mount_account_key"], "relativeMountPath": "files"}},
            {"azureBlobFileSystemConfiguration": {"accountName": "sa", "containerName": "data",
                                                  "sasKey": f"{SV}&sr=c&sp=rl&sig={q(S['mount_sas_key'])}",
                                                  "relativeMountPath": "blobs"}},
            {"cifsMountConfiguration": {"username": "ops", "source": "//fs.contoso.com/share",
                                        "password": S["cifs_mount_password"], "relativeMountPath": "cifs"}},
        ],
    }
    assert wire.batch("POST", "/pools", pool).status_code == 201
    got = wire.batch("GET", "/pools/pool-secrets-1")
    assert got.status_code == 200 and got.json()["id"] == "pool-secrets-1"
    job = {"id": "job-secrets-1", "poolInfo": {"poolId": "pool-secrets-1"}, "commonEnvironmentSettings": [
        {"name": "STORAGE", "value": "DefaultEndpointsProtocol=https;AccountName=sa;"
                                     f"AccountKey={S['connection_string_key']};EndpointSuffix=core.windows.net"}]}
    assert wire.batch("POST", "/jobs", job).status_code == 201
    assert wire.batch("GET", "/jobs/job-secrets-1").json()["id"] == "job-secrets-1"
    delegation = f"&skoid={S['output_files_skoid']}&sktid={S['output_files_sktid']}&skt=2030-01-01T00%3A00%3A00Z"
    task = {
        "id": "task-secrets-1",
        "commandLine": "/bin/sh -c run.sh",
        "resourceFiles": [{"storageContainerUrl": sas("input", S["task_resource_container_sas"])}],
        "outputFiles": [{"filePattern": "*.log", "destination": {"container": {
            "containerUrl": sas("output", S["output_files_container_sas"], delegation), "path": "logs"}},
            "uploadOptions": {"uploadCondition": "taskcompletion"}}],
    }
    assert wire.batch("POST", "/jobs/job-secrets-1/tasks", task).status_code == 201
    assert wire.batch("GET", "/jobs/job-secrets-1/tasks/task-secrets-1").json()["id"] == "task-secrets-1"
    certificate = {"thumbprint": "0123456789abcdef0123456789abcdef01234567", "thumbprintAlgorithm": "sha1",
                   "data": S["certificate_data"], "certificateFormat": "pfx", "password": S["certificate_password"]}
    assert wire.batch("POST", "/certificates", certificate, api=CERT_API).status_code == 201


@pytest.mark.batch_contract(mode="off")  # the fake services answer only what carries a secret
def test_fake_services_carry_planted_secrets(wire):
    signed = {"Authorization": f"SharedKey {S['shared_key_account']}:{S['shared_key_signature']}",
              "Content-Type": "application/json; odata=minimalmetadata"}
    created = wire.proxied("POST", batch_host("/jobs?api-version=2025-06-01"), signed,
                           json.dumps({"id": "job-secrets-1", "poolInfo": {"poolId": "pool-secrets-1"}}).encode())
    assert created.status_code == 201
    bearer = {"Authorization": f"Bearer {S['bearer_jwt']}",
              "x-ms-authorization-auxiliary": f"Bearer {S['auxiliary_bearer_jwt']}"}
    job = wire.proxied("GET", batch_host("/jobs/job-secrets-1?api-version=2025-06-01"), bearer)
    assert job.status_code == 200 and job.json()["id"] == "job-secrets-1"
    logs = {"containerUrl": sas("logs", S["upload_logs_container_sas"]), "startTime": "2030-01-01T00:00:00Z"}
    uploaded = wire.proxied("POST", batch_host("/pools/pool-secrets-1/nodes/tvm-1/uploadbatchservicelogs"
                                               "?api-version=2025-06-01"), signed, json.dumps(logs).encode())
    assert uploaded.json()["numberOfFilesUploaded"] == 2
    user = {"name": "ops", "isAdmin": False, "password": S["node_user_password"]}
    assert wire.proxied("POST", batch_host("/pools/pool-secrets-1/nodes/tvm-1/users?api-version=2025-06-01"),
                        signed, json.dumps(user).encode()).status_code == 201

    delegation = (f"{SV}&sr=b&sp=r&skdutid={S['sas_skdutid_query']}&saoid={S['sas_saoid_query']}"
                  f"&suoid={S['sas_suoid_query']}&sig={q(S['sas_sig_query'])}")
    blob = wire.proxied("GET", f"http://sa.blob.core.windows.net/input/data.csv?{delegation}")
    assert blob.status_code == 200 and blob.text == "a,b\\n1,2\\n"
    listing = wire.proxied("GET", f"http://sa.blob.core.windows.net/input?restype=container&comp=list&{delegation}")
    assert "<Name>a.csv</Name>" in listing.text
    source = f"https://src.blob.core.windows.net/c/b.csv?{SV}&sr=b&sp=r&sig={q(S['sas_in_request_header'])}"
    copy = wire.proxied("PUT", f"http://sa.blob.core.windows.net/output/b.csv?{delegation}",
                        {"x-ms-copy-source": source, "x-ms-version": "2022-11-02"})
    assert copy.status_code == 202
    nested = q(f"https://src.blob.core.windows.net/c/n.csv?{SV}&sr=b&sig={q(S['sas_nested_in_url'])}")
    assert wire.proxied("GET", f"http://sa.blob.core.windows.net/input/data.csv?{SV}&source={nested}").ok

    token_url = "http://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    scope = "scope=https%3A%2F%2Fbatch.core.windows.net%2F.default"
    grants = (
        f"grant_type=client_credentials&client_id=app&client_secret={q(S['token_client_secret'])}&{scope}",
        f"grant_type=refresh_token&client_id=app&refresh_token={q(S['token_refresh_token_form'])}"
        "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
        f"&client_assertion={S['token_client_assertion']}&{scope}",
        f"grant_type=password&client_id=app&username=ops%40contoso.com&password={q(S['token_ropc_password'])}&{scope}",
    )
    for grant in grants:
        assert wire.proxied("POST", token_url, form, grant.encode()).json()["token_type"] == "Bearer"

    arm = ("http://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
           "/providers/Microsoft.Batch/batchAccounts/armacct")
    assert "primary" in wire.proxied("POST", f"{arm}/listKeys?api-version=2024-07-01").json()
    package = wire.proxied("GET", f"{arm}/applications/app-python/versions/3.11?api-version=2024-07-01")
    assert package.json()["properties"]["state"] == "Active"
'''


def make_project(
    pytester: pytest.Pytester, tests: dict[str, str], conftest_extra: str = "", bodies: dict | None = None
) -> None:
    """planted.py (the secrets, and extra properties the server adds to `GET /pools/{id}`), conftest, tests."""
    pytester.makepyfile(planted=f"S = {SECRETS!r}\nBODIES = {bodies or {}!r}\n{PLANTED_HELPERS}")
    pytester.makeconftest(CONFTEST + textwrap.dedent(conftest_extra))
    pytester.makepyfile(**{name: textwrap.dedent(text) for name, text in tests.items()})


def cassette_texts(root: Path) -> dict[str, list[str]]:
    """Every file under `root`: its bytes as text, plus (for YAML) every parsed string and decoded byte string,
    so a secret folded across YAML lines or stored as `!!binary` is still found."""
    out: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        texts = [raw.decode("utf-8", "replace")]
        try:
            document = yaml.load(raw, Loader=yaml.Loader)
        except yaml.YAMLError:
            document = None
        stack = [document]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, bytes):
                texts.append(item.decode("utf-8", "replace"))
            elif isinstance(item, str):
                texts.append(item)
        out[path.relative_to(root).as_posix()] = texts
    return out


def leaks(root: Path, secrets: dict[str, str]) -> list[str]:
    found = []
    for name, texts in cassette_texts(root).items():
        for kind, value in secrets.items():
            if any(form in text for form in forms(value) for text in texts):
                found.append(f"{kind} in {name}")
    return found


# --------------------------------------------------------------------------- the tests


def test_table_has_at_least_twenty_distinct_kinds():
    assert len(KINDS) >= 20 and len(SECRETS) == len(KINDS)
    values = [k.value for k in KINDS]
    assert all(a not in b for a in values for b in values if a is not b), "a value inside another hides a leak"


def test_planted_secrets_never_reach_disk_and_replay_still_matches(pytester):
    """Record once (emulator + planted-secrets server), check the wire had every kind and the disk none, then
    replay with no server: same outcomes, no bytes changed, nothing sent."""
    make_project(pytester, {"test_planted": TEST_PLANTED})
    recorded = pytester.runpytest_subprocess(*RUN, "--batch-record-mode=once")
    recorded.assert_outcomes(passed=2)

    # every kind really crossed the wire (so its absence below means something)
    wire = (pytester.path / "wire.jsonl").read_text(encoding="utf-8")
    assert [k.name for k in KINDS if not any(form in wire for form in forms(k.value))] == []
    exchanges = [json.loads(line) for line in wire.splitlines()]
    assert len(exchanges) == 7 + 13
    # dynamic secrets: the emulator's account key and the SharedKey signatures actually sent to it
    emulator_signatures = {
        e["request"][2]["Authorization"].split(":", 1)[1]
        for e in exchanges
        if e["request"][2].get("Authorization", "").startswith("SharedKey emulator:")
    }
    assert len(emulator_signatures) == 7
    dynamic = {f"emulator_signature_{i}": s for i, s in enumerate(sorted(emulator_signatures))}
    dynamic["emulator_account_key"] = default_key("emulator")

    cassettes = pytester.path / "cassettes"
    files = sorted(p.relative_to(cassettes).as_posix() for p in cassettes.rglob("*") if p.is_file())
    assert files == [
        "test_planted/test_emulator_echoes_planted_secrets.yaml",
        "test_planted/test_fake_services_carry_planted_secrets.yaml",
    ]
    assert leaks(cassettes, {**SECRETS, **dynamic}) == []
    everything = "\n".join(t for texts in cassette_texts(cassettes).values() for t in texts)
    for kept in IDS:
        assert kept in everything
    for placeholder in (
        "SharedKey ACCOUNT:REDACTED",
        "Bearer REDACTED",
        "sig=REDACTED",
        "ACCOUNT.REGION.batch",
        "client_secret=REDACTED",
        '"password":"REDACTED"',
        "skt=2030-01-01",  # SAS parameters without key material stay, for debugging expiry and permissions
        "sp=rwl",
    ):
        assert placeholder in everything
    assert "127.0.0.1" not in everything  # the emulator's endpoint was rewritten to the placeholder account

    before = {p: p.read_bytes() for p in cassettes.rglob("*.yaml")}
    replayed = pytester.runpytest_subprocess(*RUN, "--batch-record-mode=none")
    replayed.assert_outcomes(passed=2)
    assert {p: p.read_bytes() for p in cassettes.rglob("*.yaml")} == before
    assert (pytester.path / "wire.jsonl").read_text(encoding="utf-8") == wire  # replay sent nothing


CUSTOM_CONFTEST = """

from pytest_batch.sanitize import Rule, literal_rule


def _drop_my_token(name, value):
    return "REDACTED" if name == "x-my-token" else value


def pytest_batch_sanitize_rules(config):
    return [Rule("x-my-token", header=_drop_my_token), literal_rule("internal host", "build-agent-7.corp.internal")]
"""

MY_TOKEN = "mytok-4b1d0c9e-plain"
INTERNAL_HOST = "build-agent-7.corp.internal"
CODENAME = "zephyr-codename-4471"

TEST_CUSTOM = f"""
import pytest
from planted import batch_host
from pytest_batch.sanitize import literal_rule


def _get_pool(wire):
    got = wire.proxied("GET", batch_host("/pools/pool-custom?api-version=2025-06-01"), {{"x-my-token": "{MY_TOKEN}"}})
    assert got.json()["description"].startswith("{CODENAME}")


@pytest.mark.batch_contract(mode="off")
class TestWithFixtureRule:
    @pytest.fixture
    def batch_sanitize_rules(self):
        return (literal_rule("codename", "{CODENAME}", "CODENAME"),)

    def test_fixture_and_hook_rules(self, wire):
        _get_pool(wire)


@pytest.mark.batch_contract(mode="off")
def test_hook_rules_only(wire):
    _get_pool(wire)
"""


def test_custom_rules_from_fixture_override_and_hook_keep_values_off_disk(pytester):
    """Values no default rule knows (not secret-shaped) go only through the user's rules: the conftest hook's
    header and literal rules for every test, the overridden `batch_sanitize_rules` fixture for its class."""
    pool = {"description": f"{CODENAME} built on {INTERNAL_HOST}", "metadata": [{"name": "by", "value": CODENAME}]}
    make_project(pytester, {"test_custom": TEST_CUSTOM}, CUSTOM_CONFTEST, bodies={"pool-custom": pool})
    pytester.runpytest_subprocess(*RUN, "--batch-record-mode=once").assert_outcomes(passed=2)
    wire = (pytester.path / "wire.jsonl").read_text(encoding="utf-8")
    assert all(value in wire for value in (MY_TOKEN, INTERNAL_HOST, CODENAME))
    folder = pytester.path / "cassettes" / "test_custom"
    with_fixture = folder / "TestWithFixtureRule.test_fixture_and_hook_rules.yaml"
    hook_only = folder / "test_hook_rules_only.yaml"
    hook_values = {"my_token": MY_TOKEN, "internal_host": INTERNAL_HOST}
    assert leaks(with_fixture, {**hook_values, "codename": CODENAME}) == []
    assert leaks(hook_only, hook_values) == []
    hook_text, fixture_text = hook_only.read_text(encoding="utf-8"), with_fixture.read_text(encoding="utf-8")
    assert "x-my-token:\n      - REDACTED\n" in hook_text and "x-my-token:\n      - REDACTED\n" in fixture_text
    assert "built on REDACTED" in hook_text
    # the fixture rule is what removed the codename: the test without the override keeps it
    assert CODENAME in hook_text and "CODENAME built on REDACTED" in fixture_text


PKCS12_IN_ODD_PLACE = _pfx("exported")
SHARED_KEY_IN_ODD_HEADER = "SharedKey acct:" + _b64("debug-signature", 32)

TEST_FAIL_CLOSED = f"""
import pytest
from planted import batch_host


@pytest.mark.batch_contract(mode="off")
def test_pkcs12_in_an_unusual_property(wire):
    got = wire.proxied("GET", batch_host("/pools/pool-exported?api-version=2025-06-01"))
    assert got.json()["exportedCertificate"].startswith("MII")


@pytest.mark.batch_contract(mode="off")
def test_shared_key_in_an_unusual_header(wire):
    got = wire.proxied("GET", batch_host("/pools/pool-secrets-1?api-version=2025-06-01"),
                       {{"x-ms-debug-signature": "{SHARED_KEY_IN_ODD_HEADER}"}})
    assert got.status_code == 200
"""


def test_secret_no_rule_covers_is_refused_and_nothing_is_written(pytester):
    """No default rule covers a PFX blob outside a certificate's `data`, nor a SharedKey string outside the
    Authorization headers (a 64-byte key is redacted wherever it is, so it cannot show this); the scanner does."""
    bodies = {"pool-exported": {"exportedCertificate": PKCS12_IN_ODD_PLACE}}
    make_project(pytester, {"test_fail_closed": TEST_FAIL_CLOSED}, bodies=bodies)
    result = pytester.runpytest_subprocess(*RUN, "--batch-record-mode=once")
    result.assert_outcomes(passed=2, errors=2)
    out = result.stdout.str()
    folder = pytester.path / "cassettes" / "test_fail_closed"
    expected = {
        "test_pkcs12_in_an_unusual_property": "interactions[0].response.body#/exportedCertificate: pkcs12 (MIIB…",
        "test_shared_key_in_an_unusual_header": "interactions[0].request.headers.x-ms-debug-signature: shared_key (",
    }
    for test, location in expected.items():
        assert f"ERROR at teardown of {test}" in out
        refusals = [line for line in out.splitlines() if line.startswith("pytest-batch: ") and f"/{test}.yaml" in line]
        assert len(refusals) == 1, out
        assert refusals[0].startswith(f"pytest-batch: {folder / test}.yaml: secret-shaped value at {location}")
        assert refusals[0].endswith("re-record; do not commit this cassette)")
    # the refusal does not print the secret either, and nothing (not even a temp file) was written
    assert PKCS12_IN_ODD_PLACE[:40] not in out and SHARED_KEY_IN_ODD_HEADER.split(":")[1] not in out
    assert not folder.exists() or list(folder.iterdir()) == []


TEST_EDITED = """
import os

import pytest


@pytest.mark.parametrize("edit", {edits!r})
def test_applications(wire, edit):
    assert wire.batch("GET", "/applications").status_code == 200
    if os.environ.get("PLANT_SECOND"):
        assert wire.batch("GET", "/applications/app-python").json()["id"] == "app-python"
"""

RECORDED_URI = "uri: https://ACCOUNT.REGION.batch.azure.com/applications?api-version=2025-06-01\n"
EDITED_SIG = quote(_b64("edited-uri-sig", 32), safe="")
EDITED_SHARED_KEY = "SharedKey acct:" + _b64("edited-header-sig", 32)
# edit -> (the recorded text it replaces (first occurrence: the request), the edited text, where the refusal points)
EDITS = {
    "odd_header": (
        "    headers:\n",
        f"    headers:\n      x-ms-debug:\n      - {EDITED_SHARED_KEY}\n",
        "interactions[0].request.headers.x-ms-debug: shared_key",
    ),
    "uri_sig": (RECORDED_URI, RECORDED_URI[:-1] + f"&sig={EDITED_SIG}\n", "interactions[0].request.url: sas_signature"),
    "authorization": (
        "      Authorization:\n      - SharedKey ACCOUNT:REDACTED\n",
        f"      Authorization:\n      - {EDITED_SHARED_KEY}\n",
        "interactions[0].request.headers.Authorization: shared_key",
    ),
}


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param(("odd_header",), id="odd_header"),
        pytest.param(("uri_sig", "authorization"), id="rules_cover"),
    ],
)
def test_cassette_edited_to_hold_a_secret_is_refused_and_left_as_it_was(pytester, monkeypatch, edits):
    """Recorded cassettes edited by hand to hold a secret, then extended in `new_episodes` with one new request:
    each write is refused naming the location, each file stays byte for byte as edited, no temp file is left.

    `odd_header` is a place no rule covers; `rules_cover` edits places the default rules sanitise on record."""
    make_project(pytester, {"test_edited": TEST_EDITED.format(edits=list(edits))})
    pytester.runpytest_subprocess(*RUN, "--batch-record-mode=once").assert_outcomes(passed=len(edits))
    folder = pytester.path / "cassettes" / "test_edited"
    edited = {}
    for edit in edits:
        [path] = folder.glob(f"test_applications_{edit}_*.yaml")
        old, new, where = EDITS[edit]
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        edited[path] = (path.read_bytes(), path.stat().st_mtime_ns, where)

    monkeypatch.setenv("PLANT_SECOND", "1")
    result = pytester.runpytest_subprocess(*RUN, "--batch-record-mode=new_episodes")
    for path, (_, _, where) in edited.items():
        assert f"pytest-batch: {path}: secret-shaped value at {where} (" in result.stdout.str()
    result.assert_outcomes(passed=len(edits), errors=len(edits))
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns, w) for p, (_, _, w) in edited.items()} == edited
    assert sorted(folder.iterdir()) == sorted(edited)  # no temp file left beside them
