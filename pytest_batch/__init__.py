"""pytest-batch: contract testing for the Azure Batch data-plane REST API.

The package root stays import-light on purpose: pytest imports the plugin for
every session, so heavy modules (vcrpy, jsonschema) load only where used.
"""

__version__ = "0.1.0"
