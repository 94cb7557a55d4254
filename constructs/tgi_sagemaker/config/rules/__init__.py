"""Config rules, one module per spec section; each rule adds a field-level problem with the bad value and the fix,
and each ``resolve_*`` decides a value the config leaves open. ``config/resolve.py`` runs them in turn.

- ``model``: the weights' size and the context length.
- ``instance``: ``instance_type`` and ``num_gpus`` (the fit of the weights).
- ``tgi``: the image version and what TGI refuses at start-up; ``token_limits``: ``tgi.max_*_tokens``.
- ``scaling``, ``weights``, ``network``, ``operations``, ``tags``: their sections.
- ``environment``: the app's ``environment`` and stack names.
"""
