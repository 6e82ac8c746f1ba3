"""The product's own logic, pure: what a webhook becomes and what happens to it.

Routing a request into events, admission, API keys, filters, rules, retries, signing,
verification, outbound address checks, delivery targets and attempts, and the records
and rows they make.  Nothing here does I/O or reads a clock: callers pass the time in,
and the services around it consume, call the domain, produce and commit.  The import
contracts in ``pyproject.toml`` (checked by ``make test``) keep it that way.
"""
