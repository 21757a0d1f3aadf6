"""Kubernetes operator reconciling EventTracker resources into Amazon Personalize event trackers."""
