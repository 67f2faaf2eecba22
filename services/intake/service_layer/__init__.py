"""Intake's use cases (handlers.py) and the ports they publish through (ports.py),
which adapters/ implements and bootstrap.py wires."""
