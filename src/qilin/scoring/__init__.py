"""Index-system scoring (指标体系评分) of the action plan's key indicators.

Pure core (no database): :mod:`~qilin.scoring.indicators` (the indicator registry and the plain
per-enterprise facts), :mod:`~qilin.scoring.normalize`, :mod:`~qilin.scoring.weights` (AHP with the
consistency ratio, entropy, combination), :mod:`~qilin.scoring.rank` (TOPSIS, weighted sum),
:mod:`~qilin.scoring.index` (the YAML index files in ``indexes/``) and :mod:`~qilin.scoring.evaluate`
(facts + index → explained scores). Edges: :mod:`~qilin.scoring.service` (facts from the registry as of a
date) and :mod:`~qilin.scoring.cli` (``qilin scoring …``).
"""
