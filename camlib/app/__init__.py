"""The application: ``localize`` (photo to classes, CAMs and boxes), the ``camlib cam`` command, its defaults and overlays,
and your own networks in that pipeline (``own_models``: any GAP network with its preprocessing, or a fine-tuned checkpoint)."""
