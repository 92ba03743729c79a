"""The rover's flight software: a vehicle of its own on the same executive and services as the lander
(see :mod:`fsw.rover.topology`), over a proximity link relayed by the lander."""
