"""The algorithms, one package each: a pure core (frozen ``Params``, ``State``, ``init/ask/tell``
taking their random draws as arguments) and a thin ask/tell adapter over the framework
(:mod:`optimkit.core`)."""
