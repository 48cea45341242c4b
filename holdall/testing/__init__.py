"""Test suites holdall ships for stores written outside it (they need pytest)."""
