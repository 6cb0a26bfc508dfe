"""Discovery (发现): channels and recommenders for leads, and AI discovery of future unicorns (潜在独角兽).

The AI part is a pipeline of pure modules: :mod:`.data` reads a data package, :mod:`.features` builds
time-honest features and labels, :mod:`.model` trains a calibrated LightGBM model and explains its scores,
:mod:`.backtest` measures it beside simple baselines; :mod:`.cli` is the ``qilin discover`` command.
"""
