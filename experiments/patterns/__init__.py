"""Pattern-oriented validation: the study's findings as an executable experiment.

``patterns.yaml`` defines the scenarios and the ten comparisons; ``python -m
experiments.patterns`` runs them with the experiment engine (``sim.sweep``), evaluates each
comparison (``evaluate.py``) and writes the report (``report.py``) into ``results/``.
"""
