"""The API's typed models: what each request body may hold (checked by them, see
``fields.checked``) and what each answer holds.  The OpenAPI document is generated from
the same classes, so a field cannot be accepted by one and missing from the other."""
