"""An azure-core aiohttp transport whose connections never outlive the request that opened them.

A test's event loop (``asyncio.run`` in the test, or a plugin's loop) is closed before fixture teardown, so
an aio client the test left open cannot close its pooled connections on it any more: they leak as
``ResourceWarning``s pinned on some later test. With ``force_close`` no connection stays pooled, so closing
the client on a fresh loop at teardown releases everything. Imported only by the ``batch_async_client``
fixture (azure-core and aiohttp are heavy).
"""

from __future__ import annotations

import aiohttp
from azure.core.pipeline.transport import AioHttpTransport


class OneShotAioHttpTransport(AioHttpTransport):
    """`AioHttpTransport` with a `force_close` connector; otherwise azure-core's own session settings."""

    async def open(self) -> None:
        # azure-core creates its session lazily inside open(); create ours first, with the same options, when
        # azure-core would own the session. If its attributes ever change, fall back to azure-core's session.
        if self.session is None and getattr(self, "_session_owner", False) and not getattr(self, "_has_been_opened", True):
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                trust_env=getattr(self, "_use_env_settings", True),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )
        await super().open()
