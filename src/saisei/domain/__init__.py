"""Pure domain rules and value types: no I/O, no frameworks, nothing of saisei but errors."""
