"""Intake's connections to the outside: the Kafka producer behind a narrow protocol."""
