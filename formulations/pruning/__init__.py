"""Pruning models: column selection (neuron pruning; weight pruning by a dictionary of input
sub-masks) and the big-M weight-pruning model."""
