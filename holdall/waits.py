"""How long holdall waits on a cloud: one set of settings for stores and service connectors
alike, and the longest wait they allow in all, which every message about an endpoint that
does not answer states.

A cloud's SDK tries a request `retries` + 1 times, each try waiting up to `connect_timeout`
for a connection and `read_timeout` for each answer, and sleeps between tries by its own
backoff policy. Each integration supplies that policy's longest sleeps (`Backoff`), so that
the bound a message names is the real one, not the timeout of one try.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

# The longest an SDK's retry policy sleeps in all between `tries` tries of one request.
Backoff = Callable[[int], float]


def no_backoff(tries: int) -> float:
    return 0.0


class Waits(BaseModel):
    """Bounded waits: a stalled endpoint fails after its tries, never hangs."""

    connect_timeout: float = Field(default=10.0, gt=0, le=600)
    read_timeout: float = Field(default=30.0, gt=0, le=3600)
    retries: int = Field(default=2, ge=0, le=20)

    @property
    def tries(self) -> int:
        return self.retries + 1

    def budget(self, backoff: Backoff = no_backoff) -> float:
        """The longest one request can wait on an endpoint that accepts and never answers,
        or never accepts: every try's connect and read timeouts, and the sleeps between."""
        return self.tries * (self.connect_timeout + self.read_timeout) + backoff(self.tries)

    def describe_budget(self, backoff: Backoff = no_backoff) -> str:
        """'within 74 s (3 tries of up to 10 s to connect and 30 s to answer, ...)'."""
        sleeps = backoff(self.tries)
        between = f", and up to {sleeps:g} s between them" if sleeps else ""
        tries = "1 try" if self.tries == 1 else f"{self.tries} tries"
        return (
            f"within {self.budget(backoff):g} s ({tries} of up to "
            f"{self.connect_timeout:g} s to connect and {self.read_timeout:g} s to answer"
            f"{between})"
        )


def exponential_backoff(base: float, factor: float, cap: float, jitter: float = 0.0) -> Backoff:
    """The longest sleeps of a policy that sleeps `base * factor**(k - 1)` (capped at `cap`),
    plus up to `jitter`, before try k + 1."""

    def longest(tries: int) -> float:
        return sum(min(base * factor ** (k - 1), cap) + jitter for k in range(1, tries))

    return longest
