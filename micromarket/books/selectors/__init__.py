"""Books' reads, one module per area (decision 0010)."""
