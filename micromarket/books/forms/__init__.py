"""Books' page forms, one module per area (decision 0010)."""
