"""The plugin's options, through pytester (a fresh pytest process each)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

def test_batch_options_are_registered_and_bad_values_are_usage_errors(pytester):
    pytester.makepyfile("def test_nothing():\n    pass\n")
    help_text = pytester.runpytest_subprocess("--help").stdout.str()
    for flag in ("--batch-record-mode", "--batch-contract", "--batch-cassette-dir", "--batch-api-version",
                 "--batch-report", "--batch-target"):
        assert flag in help_text
    bad = pytester.runpytest_subprocess("--batch-record-mode=sometimes")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    assert "record_mode='sometimes' (from the command line)" in bad.stderr.str()
    pytester.makeini("[pytest]\nbatch_contract = loud\n")
    bad_ini = pytester.runpytest_subprocess()
    assert bad_ini.ret == pytest.ExitCode.USAGE_ERROR and "(from the ini)" in bad_ini.stderr.str()
    pytester.makeini("[pytest]\nbatch_contract = warn\n")
    assert pytester.runpytest_subprocess("--batch-record-mode=once").ret == pytest.ExitCode.OK


API_VERSION_TEST = """
import requests


def test_images(batch_endpoint):
    url = f"{batch_endpoint.url}/supportedimages?api-version=2025-06-01"
    assert requests.get(url, headers=batch_endpoint.signed_headers("GET", url)).status_code == 200
"""


def test_api_version_override_validates_against_that_version(pytester):
    """`--batch-api-version` checks recorded 2025-06-01 traffic as another version would see it."""
    pytester.makepyfile(test_images=API_VERSION_TEST)
    quiet = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    pytester.runpytest_subprocess(*quiet, "--batch-record-mode=once").assert_outcomes(passed=1)
    pytester.runpytest_subprocess(*quiet).assert_outcomes(passed=1)  # conformant as recorded
    older = pytester.runpytest_subprocess(*quiet, "--batch-api-version=2018-08-01.7.0")
    older.assert_outcomes(failed=1)  # 2018-08-01.7.0 has no /supportedimages
    older.stdout.fnmatch_lines(["*cassettes/test_images/test_images.yaml#0 GET /supportedimages*unknown_operation*"])
