"""Seed-compatible front ends: a user of each original package switches by changing the import."""
