"""Shared test configuration: one async runner for the whole suite (anyio, asyncio backend)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
