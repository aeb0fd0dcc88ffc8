"""Throwaway local services that stand in for a deployment's: a PostgreSQL cluster, an S3 API (moto)
and one Dagster gRPC code server per location. `hurricane demo --stack services` and the tests start
them, run on them, and stop them; nothing here is used by the embedded default."""
