"""Device ports: what the flight software needs from hardware, as ``typing.Protocol`` classes and
reading dataclasses. The flight software owns them; platforms (``hil`` or a partner's package)
implement them and are found at start-up by name (:mod:`fsw.devices.platform`)."""
