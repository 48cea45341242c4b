"""The metadata database: components, stacks (and, later, artifact versions and lineage)."""
