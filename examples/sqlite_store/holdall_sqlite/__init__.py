"""The declaration: a name, a flavor by dotted path, the core versions it works with."""

from holdall.integration import Integration

INTEGRATION = Integration(
    name="sqlite",
    artifact_stores={"sqlite": "holdall_sqlite.flavor:SQLiteFlavor"},
)
