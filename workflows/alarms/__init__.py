"""Camera-system alarms (and lost keepalives) that should reach a case."""
