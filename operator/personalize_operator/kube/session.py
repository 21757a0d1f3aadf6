"""kopf's HTTP session to the API server, with a bounded connection pool.

kopf's own session never bounds its pool (aiohttp ``TCPConnector(limit=0)``): creating 1,000
EventTrackers at once made it open about 170 TLS connections to the API server in two seconds, one
per object whose finalizer or status it was patching. A bounded pool makes the patches wait for a
connection instead, and took 11 to 29 MB off the RSS measured right after creating them (issue 11,
docs/design.md section 7). A watch holds its connection for as long as it streams, so the bound is the
request budget plus one connection per watch stream; where namespace patterns make the number of
watches unknown, there is no bound (kopf's default), because a watch that cannot get a connection
would never see its namespace's resources.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
import kopf

from personalize_operator.runtime.settings import is_namespace_pattern

SCANNING_WATCHES = 2  # with scanning, kopf also watches CustomResourceDefinitions and Namespaces


def connection_limit(namespaces: Sequence[str], *, scanning: bool, requests: int) -> int | None:
    """Connections kopf may hold at once: `requests` for short calls plus one per watch stream.

    None (no bound) when a namespace pattern makes the number of watch streams unknown.
    """
    if any(is_namespace_pattern(ns) for ns in namespaces):
        return None
    watches = max(1, len(set(namespaces))) + (SCANNING_WATCHES if scanning else 0)
    return requests + watches


def bounded_session(info: kopf.ConnectionInfo, limit: int | None) -> kopf.AiohttpSession:
    """kopf's session for these credentials, built as kopf builds it but with `limit` connections.

    Must run in the operator's event loop (aiohttp binds the session to it). kopf closes the session
    when the credentials are invalidated (an HTTP 401) and calls the login handler again.
    """
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit or 0, ssl=info.as_ssl_context()),
        headers=info.as_http_headers(),
        proxy=info.proxy_url,
        trust_env=info.trust_env,
    )
    return kopf.AiohttpSession(
        aiohttp_session=session,
        server=info.server,
        default_namespace=info.default_namespace,
        priority=info.priority,
        expiration=info.expiration,
    )
