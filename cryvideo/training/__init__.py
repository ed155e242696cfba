"""Training pipelines (``cryvideo train``: faces + audio + fusion on labelled videos)."""
