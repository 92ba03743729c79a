"""Rigs: test equipment that plugs the flight software and the plant together and judges the outcome
by the plant's truth (the mission run, anomaly scenarios, campaigns, closed-loop demos). Unlike the plant
and the device backends, a rig may start any part of the flight software: running it is its job."""
