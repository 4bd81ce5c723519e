"""Institution and staff registry events, hiring checks against the ban registry."""
