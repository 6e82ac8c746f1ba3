"""Ingest: receives webhooks on ``/e/{source_id}`` and stores them in Kafka before answering."""
