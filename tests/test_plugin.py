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
