"""Router: turns stored requests into events and deliveries, one per matching connection."""
