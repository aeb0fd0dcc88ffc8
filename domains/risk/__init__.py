"""The risk domain."""
