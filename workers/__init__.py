"""Processes: the Temporal worker, the stream worker, the HTTP server, and `tuoyu up`."""
