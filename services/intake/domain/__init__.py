"""Intake's pure rules: what a submission must look like, who may send what, and
which Kafka records an accepted or rejected event becomes. No I/O here."""
