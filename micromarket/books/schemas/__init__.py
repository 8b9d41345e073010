"""Books' API schemas, one module per area (decision 0010)."""
