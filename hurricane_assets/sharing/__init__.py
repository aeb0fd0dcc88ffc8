"""The life of a share after agreement, as pure functions: contracts signed and recorded,
judged by the uplift they bring, renewed, revoked or expired. The Dagster exchange calls these."""
