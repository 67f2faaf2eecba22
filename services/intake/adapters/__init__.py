"""Intake's connections to the outside: the Kafka producer behind the narrow protocol
of service_layer/ports.py."""
