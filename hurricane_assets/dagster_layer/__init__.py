"""The thin Dagster layer: asset factories, checks, resources. Library code, no `Definitions` here
except through the builders that each code location calls."""
