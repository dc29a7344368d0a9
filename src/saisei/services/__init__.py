"""Use cases: load from storage, run analytics or simulation, persist with audit.

Every interface (CLI, API, web) calls these functions; none of them holds logic of its own.
Services return frozen dataclasses of plain values, never ORM rows.
"""
