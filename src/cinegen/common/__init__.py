"""Lowest layer: errors, seeding, devices, atomic files, checkpoint folders."""
