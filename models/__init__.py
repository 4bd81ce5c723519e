"""tuoyu's vocabulary: events, workflow inputs and database tables. Imports nothing of ours."""
