"""Grove's pytest plugin and test helpers, for Grove's own tests and for plugin authors.

Installed as the ``mlgrove`` pytest plugin (entry point ``pytest11``), it provides:

``grove_backend``
    Runs a test once on SQLite and once on PostgreSQL (``[sqlite]`` / ``[postgresql]``).
``grove_runtime``
    A migrated :class:`~mlgrove.services.context.Runtime` on that backend, with a fresh
    object store in ``tmp_path``.
``grove_factories``
    Makes teams, people, projects and tokens with sensible defaults.
``grove_workspace``
    A real ``mlgrove init`` workspace folder (SQLite) for CLI tests.
``grove_live_server``
    A real Uvicorn server on a free loopback port, serving ``grove_runtime``.
``grove_page``
    A Playwright page in headless Chromium (``/usr/bin/chromium``).

PostgreSQL comes from ``$MLGROVE_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``): each test run creates its own database
and drops it at the end, and each test gets its own schema in it. Chromium comes from
``$MLGROVE_TEST_CHROMIUM`` (default ``/usr/bin/chromium``). Without them those tests are
skipped with a message saying how to enable them, unless
``MLGROVE_TEST_REQUIRE_SERVICES=1`` (CI), which turns such skips into failures.
"""
