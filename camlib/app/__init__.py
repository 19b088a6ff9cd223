"""The application: ``localize`` (photo to classes, CAMs and boxes), the ``camlib cam`` command, its defaults and overlays."""
