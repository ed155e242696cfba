"""Reliability suite: fuzzing, batch robustness, atomic outputs, untrusted models, long inputs."""
