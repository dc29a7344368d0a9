"""Queries over the relational store, one module per aggregate."""
