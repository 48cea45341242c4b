"""Artifact versions: saved atomically, checksummed, loaded with verification."""
