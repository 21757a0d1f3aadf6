"""The Kubernetes side: EventTrackers, the tracking Secret and its watch, kopf's session, RBAC guard, cluster id."""
