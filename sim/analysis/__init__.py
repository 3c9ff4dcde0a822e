"""Analysis of saved experiment results: summaries with confidence intervals, contrasts
between scenarios, a replication-adequacy check and plots.

It reads the tables an experiment wrote (``runs/``, ``timeseries/``, ``points.parquet``) and
never imports the model or the sweep engine. ``python -m sim.analysis OUTPUT_DIR``.
"""
