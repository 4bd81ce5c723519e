"""Servers, settings, database and Kafka plumbing shared by every tuoyu process."""
