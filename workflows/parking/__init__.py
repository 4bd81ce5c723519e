"""Parking: what failed deterministically inside Temporal is recorded, dead-lettered and
flagged, and its workflow goes on."""
