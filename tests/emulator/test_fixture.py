"""The `batch_emulator` fixture, as a consumer's test suite sees it (through pytester)."""

from __future__ import annotations

pytest_plugins = ["pytester"]


def test_batch_emulator_fixture_serves_a_session(pytester):
    pytester.makepyfile(
        """
        import json, urllib.request
        from pytest_batch.emulator.auth import shared_key_header

        def _get(emulator, path):
            query = "api-version=2025-06-01"
            headers = {"ocp-date": "Wed, 01 Jan 2025 00:00:00 GMT"}
            headers["Authorization"] = shared_key_header(
                emulator.account, emulator.key, "GET", path, query, headers.items())
            request = urllib.request.Request(f"{emulator.endpoint}{path}?{query}", headers=headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())

        def test_one(batch_emulator):
            assert batch_emulator.endpoint.startswith("http://127.0.0.1:")
            assert _get(batch_emulator, "/jobs") == (200, {"odata.metadata": batch_emulator.endpoint + "/$metadata#jobs", "value": []})
            test_one.endpoint = batch_emulator.endpoint

        def test_same_session_same_emulator(batch_emulator):
            assert batch_emulator.endpoint == test_one.endpoint
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)

