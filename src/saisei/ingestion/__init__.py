"""Acquisition of data: the exchange format (schemas, readers, validation, unit
normalisation, row-level error reports) and, later, live equipment over OPC UA."""
