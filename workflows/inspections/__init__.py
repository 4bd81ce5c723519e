"""Inspection findings: serious ones become cases, minor ones rectification items."""
