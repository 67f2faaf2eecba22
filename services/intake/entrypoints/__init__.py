"""Thin ways in: HTTP (FastAPI), the Kafka-native subscriber (FastStream) and the CLI."""
