"""Relational store (SQLAlchemy 2.0, Alembic) and time-series store (Parquet + DuckDB).

The only layer that imports SQLAlchemy and Alembic.
"""
