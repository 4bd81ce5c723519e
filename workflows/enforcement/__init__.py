"""Sanctions, lifetime bans and joint punishment after a substantiated case."""
