"""Simulation of the whole chain with known ground truth (pure code: numpy and scipy only)."""
