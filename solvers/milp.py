"""MILP backends (placeholder; filled by the MILP work)."""
