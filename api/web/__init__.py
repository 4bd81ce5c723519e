"""The web pages: server-rendered shells (Jinja2) whose scripts call the JSON API with the
user's bearer token, kept in the browser's local storage."""
