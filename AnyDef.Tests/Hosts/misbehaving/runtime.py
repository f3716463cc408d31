# The misbehaving test host runs no Python runtime; this file only completes the host folder.
