"""Lottery-ticket experiments: the width factor N against log2(1/eps)."""
