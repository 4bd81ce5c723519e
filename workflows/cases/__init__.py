"""The case workflow: one per case, from intake to dispatch (and, later, to closure)."""
