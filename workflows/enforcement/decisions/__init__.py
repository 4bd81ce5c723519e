"""Administrative decisions (处理决定) of the lead department on a substantiated case, their
rectification deadlines and re-inspections; `EnforcementWorkflow` runs them, after the bans,
and starts the joint punishment (`workflows/enforcement/credit/`)."""
