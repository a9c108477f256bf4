"""Shared by every test package: async tests run on a fresh event loop each
(``asyncio.run``), no plugin needed; Hypothesis runs without its per-example
deadline."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from hypothesis import settings

# Hypothesis fails an example that takes over 200 ms: a timing assertion, which
# a loaded CI machine trips on code that is correct (a SAM frame parser took
# 432 ms once). Speed is measured in bench/, never asserted in tests.
settings.register_profile("locker", deadline=None)
settings.load_profile("locker")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True
