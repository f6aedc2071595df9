"""The Swagger → bundle converter: dialect normalisation, determinism, committed bundles current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_batch.build import build_bundle, build_directory, dumps_bundle
from pytest_batch.cli import main
from pytest_batch.errors import SpecError

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO.parent / "shared" / "specs" / "batch"


def _swagger(**extra):
    doc = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "2099-01-01.99.0", "description": "prose"},
        "x-ms-parameterized-host": {
            "hostTemplate": "{batchUrl}",
            "useSchemePrefix": False,
            "parameters": [{"$ref": "#/parameters/batchUrl"}],
        },
        "consumes": ["application/json; odata=minimalmetadata"],
        "produces": ["application/json"],
        "parameters": {
            "batchUrl": {"name": "batchUrl", "in": "path", "required": True, "type": "string", "x-ms-skip-url-encoding": True},
            "ApiVersionParameter": {"name": "api-version", "in": "query", "required": True, "type": "string", "description": "Client API Version."},
        },
        "paths": {
            "/things/{thingId}": {
                "parameters": [{"name": "thingId", "in": "path", "required": True, "type": "string"}],
                "get": {
                    "operationId": "Thing_Get",
                    "summary": "Gets a thing.",
                    "x-ms-examples": {"x": {"$ref": "./examples/x.json"}},
                    "parameters": [
                        {"$ref": "#/parameters/ApiVersionParameter"},
                        {"name": "maxresults", "in": "query", "type": "integer", "format": "int32", "minimum": 1, "maximum": 1000, "default": 1000},
                        {"name": "$select", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "csv"},
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "schema": {"$ref": "#/definitions/Thing"},
                            "headers": {"ETag": {"type": "string", "description": "e"}, "Last-Modified": {"type": "string", "format": "date-time-rfc1123"}},
                        },
                        "default": {"description": "err", "schema": {"$ref": "#/definitions/BatchError"}},
                    },
                    "x-ms-pageable": {"nextLinkName": "odata.nextLink"},
                    "deprecated": True,
                },
            },
            "/things/{thingId}/content": {
                "get": {
                    "operationId": "Thing_Content",
                    "produces": ["application/octet-stream"],
                    "parameters": [{"name": "thingId", "in": "path", "required": True, "type": "string"}],
                    "responses": {"200": {"description": "bytes", "schema": {"type": "object", "format": "file"}}},
                }
            },
        },
        "x-ms-paths": {
            "/things?op=special": {
                "post": {
                    "operationId": "Thing_Special",
                    "parameters": [{"name": "body", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Derived"}}],
                    "responses": {"204": {"description": "done"}},
                }
            }
        },
        "definitions": {
            "Thing": {
                "title": "A thing.",
                "properties": {
                    "id": {"type": "string", "title": "The id."},
                    "state": {"type": "string", "enum": ["a", "b"], "x-ms-enum": {"name": "S", "modelAsString": True}, "readOnly": True},
                    "kind": {"type": "string", "enum": ["x"], "x-ms-enum": {"name": "K", "modelAsString": False}},
                    "when": {"type": "string", "format": "date-time", "x-nullable": True},
                    "child": {"$ref": "#/definitions/Base", "description": "child", "readOnly": True},
                    "maybe": {"$ref": "#/definitions/Base", "x-nullable": True},
                    "password": {"type": "string", "x-ms-secret": True, "x-ms-client-name": "pw"},
                },
                "required": ["id"],
                "example": {"id": "x"},
            },
            "Base": {"type": "object", "discriminator": "kind", "properties": {"kind": {"type": "string"}}, "required": ["kind"]},
            "Derived": {
                "x-ms-discriminator-value": "derived",
                "allOf": [{"$ref": "#/definitions/Base"}],
                "properties": {"extra": {"type": "integer", "format": "int64"}},
            },
            "BatchError": {"properties": {"code": {"type": "string"}}},
        },
    }
    doc.update(extra)
    return doc


def test_prose_is_dropped_everywhere():
    text = dumps_bundle(build_bundle(_swagger()))
    for word in ('"description"', '"summary"', '"title"', '"example"', "x-ms-examples", "x-ms-client-name"):
        assert word not in text


def test_dialect_is_normalised():
    bundle = build_bundle(_swagger())
    thing = bundle["definitions"]["Thing"]
    assert thing["type"] == "object"  # implicit Swagger object made explicit
    assert thing["properties"]["state"] == {"type": "string", "enum": ["a", "b"], "x-enum-open": True, "readOnly": True}
    assert "x-enum-open" not in thing["properties"]["kind"]
    assert thing["properties"]["when"]["type"] == ["string", "null"]
    assert thing["properties"]["maybe"] == {"anyOf": [{"$ref": "#/definitions/Base"}, {"type": "null"}]}
    # $ref siblings are ignored by Draft 4, so they move next to an allOf
    assert thing["properties"]["child"] == {"allOf": [{"$ref": "#/definitions/Base"}], "readOnly": True}
    assert thing["properties"]["password"] == {"type": "string", "x-secret": True}
    derived = bundle["definitions"]["Derived"]
    assert derived["properties"] == {"kind": {"type": "string"}, "extra": {"type": "integer", "format": "int64"}}
    assert derived["required"] == ["kind"] and "allOf" not in derived
    assert bundle["definitions"]["Base"]["x-discriminator"] == {
        "propertyName": "kind",
        "mapping": {"Base": "#/definitions/Base", "derived": "#/definitions/Derived"},
    }


def test_operations_carry_the_contract_facts():
    bundle = build_bundle(_swagger())
    assert bundle["api_version"] == "2099-01-01.99.0"
    assert bundle["host"]["template"] == "{batchUrl}" and bundle["host"]["parameters"][0]["name"] == "batchUrl"
    get = bundle["operations"]["Thing_Get"]
    assert (get["method"], get["path"], get["deprecated"]) == ("GET", "/things/{thingId}", True)
    assert get["pageable"] == {"next_link_name": "odata.nextLink", "item_name": "value"}
    params = {p["name"]: p for p in get["parameters"]}
    assert set(params) == {"thingId", "api-version", "maxresults", "$select"}  # host parameter excluded
    assert params["thingId"]["in"] == "path" and params["thingId"]["required"] is True
    assert params["maxresults"]["schema"] == {"type": "integer", "format": "int32", "minimum": 1, "maximum": 1000, "default": 1000}
    assert params["$select"]["collection_format"] == "csv"
    assert params["api-version"]["spec_pointer"] == "/parameters/ApiVersionParameter"
    assert get["consumes"] == ["application/json; odata=minimalmetadata"]
    assert get["responses"]["200"]["headers"]["Last-Modified"] == {"type": "string", "format": "date-time-rfc1123"}
    assert get["responses"]["200"]["schema"] == {"$ref": "#/definitions/Thing"}
    assert get["spec_pointer"] == "/paths/~1things~1{thingId}/get"
    content = bundle["operations"]["Thing_Content"]
    assert content["responses"]["200"]["file"] is True and content["produces"] == ["application/octet-stream"]
    special = bundle["operations"]["Thing_Special"]
    assert special["path"] == "/things" and special["fixed_query"] == {"op": "special"}
    assert special["body"]["schema"] == {"$ref": "#/definitions/Derived"}


def test_output_is_deterministic():
    first = dumps_bundle(build_bundle(_swagger()))
    shuffled = _swagger()
    shuffled["definitions"] = dict(reversed(list(shuffled["definitions"].items())))
    assert dumps_bundle(build_bundle(shuffled)) == first


@pytest.mark.parametrize(
    "doc, problem",
    [
        ([], "not a Swagger 2.0 document"),
        ({"swagger": "2.0", "info": {}}, "api-version"),
        (_swagger(definitions={"A": {"allOf": [{"$ref": "#/definitions/Missing"}]}}), "missing or cyclic"),
    ],
)
def test_bad_specs_get_one_clear_error(doc, problem):
    with pytest.raises(SpecError, match=problem) as info:
        build_bundle(doc, source="spec.json")
    assert "\n" not in str(info.value)


def test_build_directory_is_atomic_and_reports_unreadable_specs(tmp_path):
    (tmp_path / "specs" / "v1").mkdir(parents=True)
    (tmp_path / "specs" / "v1" / "BatchService.json").write_text(json.dumps(_swagger()))
    written = build_directory(tmp_path / "specs", tmp_path / "out")
    assert [p.name for p in written] == ["2099-01-01.99.0.json"]
    assert not list((tmp_path / "out").glob("*.tmp"))
    (tmp_path / "specs" / "v2").mkdir()
    (tmp_path / "specs" / "v2" / "BatchService.json").write_text("{ not json")
    with pytest.raises(SpecError, match="v2/BatchService.json: cannot read spec"):
        build_directory(tmp_path / "specs", tmp_path / "out2")


needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason=f"{SPECS} not present: the official specs live outside the package")


@needs_specs
def test_committed_bundles_are_current(tmp_path):
    """Rebuilding from ../shared reproduces schemas/ byte for byte (run `pytest-batch schemas build` if not)."""
    assert main(["schemas", "build", "--specs", str(SPECS), "--out", str(tmp_path)]) == 0
    built = sorted(p.name for p in tmp_path.glob("*.json"))
    committed = sorted(p.name for p in (REPO / "schemas").glob("2*.json"))  # bundles; constraints.json is not one
    assert built == committed and len(built) == 18
    stale = [name for name in built if (tmp_path / name).read_bytes() != (REPO / "schemas" / name).read_bytes()]
    assert not stale, f"stale bundles {stale}: run `pytest-batch schemas build --specs {SPECS} --out schemas/`"


@needs_specs
def test_every_operation_of_every_version_is_bundled():
    for spec_file in sorted(SPECS.glob("*/BatchService.json")):
        swagger = json.loads(spec_file.read_text(encoding="utf-8"))
        expected = {
            op["operationId"]
            for section in ("paths", "x-ms-paths")
            for item in (swagger.get(section) or {}).values()
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        }
        bundle = json.loads((REPO / "schemas" / f"{swagger['info']['version']}.json").read_text())
        assert set(bundle["operations"]) == expected
        assert set(bundle["definitions"]) == set(swagger["definitions"])
