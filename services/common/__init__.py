"""Shared pieces of every hookhouse service: settings, topics, records, clients, metrics."""
