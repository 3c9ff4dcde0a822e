"""The experiment engine: replicated sweeps from config, serial, in processes or on Dask.

``python -m sim.sweep +experiment=NAME [overrides]``; see docs/experiments.md.
"""
