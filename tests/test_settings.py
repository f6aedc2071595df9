"""The settings precedence: command line > ini > batch_config fixture > marker."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_batch.settings import CONTRACT_MODES, RECORD_MODES, BatchSettings, SettingsError, resolve


def test_defaults_never_reach_the_network():
    assert resolve() == BatchSettings(record_mode="none", contract="strict", target="emulator")


def test_first_layer_that_sets_a_value_wins():
    settings = resolve(
        {"record_mode": None},
        {"record_mode": "once", "contract": ""},
        {"record_mode": "all", "contract": "warn"},
        {"contract": "off", "api_version": "2024-07-01.20.0"},
    )
    assert (settings.record_mode, settings.contract, settings.api_version) == ("once", "warn", "2024-07-01.20.0")


@given(st.lists(st.one_of(st.none(), st.sampled_from(RECORD_MODES)), min_size=4, max_size=4))
def test_precedence_is_positional(values):
    layers = [{"record_mode": v} for v in values]
    expected = next((v for v in values if v is not None), "none")
    assert resolve(*layers).record_mode == expected


@pytest.mark.parametrize(
    "layer_index, layer_name", list(enumerate(["command line", "ini", "batch_config fixture", "marker"]))
)
def test_a_bad_value_names_option_layer_and_choices(layer_index, layer_name):
    layers = [{} for _ in range(4)]
    layers[layer_index] = {"contract": "loud"}
    with pytest.raises(SettingsError) as caught:
        resolve(*layers)
    message = str(caught.value)
    assert "contract='loud'" in message and layer_name in message
    assert all(mode in message for mode in CONTRACT_MODES)


def test_unknown_names_are_refused():
    with pytest.raises(SettingsError, match="recordmode"):
        resolve({}, {"recordmode": "once"})


def test_reports_come_whole_from_one_layer():
    assert resolve({"reports": []}, {"reports": ["a.json", "b.html"]}, {"reports": ["c.xml"]}).reports == (
        "a.json",
        "b.html",
    )


def test_every_combination_of_valid_modes_resolves():
    for record, contract in itertools.product(RECORD_MODES, CONTRACT_MODES):
        assert resolve({"record_mode": record, "contract": contract}).contract == contract
