"""The API's endpoints, one module per resource family.  Each handler is a named
function of ``(context, request, project id)`` (``endpoint.py``); each module lists
its routes in ``routes(ctx)``, and ``app.py`` assembles them."""
