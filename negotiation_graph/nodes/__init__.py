"""The graph's nodes, one module per phase; each is a small function of the typed state."""
