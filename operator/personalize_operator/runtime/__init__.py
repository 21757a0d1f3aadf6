"""Process machinery: settings, the work queue, per-resource locks, leader election, health, metrics, logs."""
