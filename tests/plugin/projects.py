"""Pieces shared by the pytester projects of the plugin tests."""

from __future__ import annotations

# A conftest that makes every connect raise, loopback included, when PB_BLOCK_NETWORK=1 in the project's
# environment: a run with it set can only pass from the cassettes. (xdist talks to its workers over pipes.)
BLOCKING_CONFTEST = """
import os
import socket

if os.environ.get("PB_BLOCK_NETWORK") == "1":
    def _refuse(self, address, *args, **kwargs):
        raise OSError(f"network blocked by the test project: connect({address!r})")

    socket.socket.connect = _refuse
    socket.socket.connect_ex = _refuse
"""
