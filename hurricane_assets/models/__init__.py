"""Consumer models: specs, features from own data and shares, training with uplift, the model store."""
