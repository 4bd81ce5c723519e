"""The faust stream worker: inbound topics to Temporal, rejects to the dead-letter topic."""
