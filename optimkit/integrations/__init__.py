"""optimkit inside the tools people already run: :mod:`optimkit.integrations.tune` (a Ray Tune
``Searcher``) and :mod:`optimkit.integrations.optuna` (an Optuna sampler). Each module imports its
tool only when imported itself, so ``import optimkit`` never needs Ray Tune or Optuna."""
