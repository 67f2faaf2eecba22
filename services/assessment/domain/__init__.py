"""The assessment rules: pure functions of events and the policy, no I/O."""
