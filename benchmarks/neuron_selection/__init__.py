"""Neuron-selection experiments: the pre-training threshold of greedy forward selection, and
the `trained` bench suite."""
