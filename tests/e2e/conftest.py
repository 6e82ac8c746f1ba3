"""Each end-to-end module gets its own stack and receiver (one module at a time: they
share the stack's ports); the fixtures are in ``tests/conftest.py``, shared with the
end-to-end tests of ``tests/security``."""
