"""CP-SAT backend (placeholder; filled by the CP-SAT work)."""
