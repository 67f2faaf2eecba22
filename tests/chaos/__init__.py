"""The project's own fault-injection suite (`make chaos`, `python -m tests.chaos`).

Private Kafka and PostgreSQL instances on free ports (the developer's stack is never
touched), both services as real processes, a seeded history sent through intake over
HTTP in small batches by a client that retries, and kill -9 of each part in turn.
"""
