"""Chain of identity and custody use cases: parties, custody events, shipments."""
