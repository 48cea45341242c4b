"""Artifact stores: the flavor and config contract, and the file API every store shares."""
