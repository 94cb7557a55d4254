"""Config rules, one module per spec section: each a field-level problem with the bad value and the fix."""
