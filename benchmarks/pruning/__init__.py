"""Pruning experiments: the neuron-vs-weight pruning gap, time to a certified optimum."""
