"""The payments domain."""
