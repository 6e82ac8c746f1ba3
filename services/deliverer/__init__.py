"""Deliverer: pushes events to destinations and records every attempt."""
