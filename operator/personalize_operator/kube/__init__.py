"""The Kubernetes side: EventTracker objects, the tracking Secret and its watch, kopf's session, the RBAC guard."""
