"""HTTP API (`/api/v1`) and web pages."""
