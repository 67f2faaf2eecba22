"""`python -m demo`: feed a sample history to the running stack and print the assessment."""
