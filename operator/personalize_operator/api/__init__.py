"""The EventTracker API: its names, the spec and status model, AWS's input constraints, the CRD and its stamp."""
