"""A service account's private key, and a token endpoint that knows it (see google_tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.google_tokens import TokenEndpoint, new_private_key, token_endpoint


@pytest.fixture
def key() -> Any:
    return new_private_key()


@pytest.fixture
def tokens(key: Any) -> Iterator[TokenEndpoint]:
    with token_endpoint(key.public_key(), lifetime=5) as endpoint:
        yield endpoint
