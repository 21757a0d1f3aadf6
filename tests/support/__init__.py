"""Helpers shared by the test suites (waiting, Kubernetes objects)."""
