"""Test helpers shipped with optimkit: the optimizer contract suite (``optimkit.testing.contract``)."""
