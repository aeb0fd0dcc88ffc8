"""Model monitors (Evidently drift, live performance) and the data needs a failed monitor raises."""
