"""Emulator backend: lunar lander plant, terrain, sensors and closed-loop runners (see docs/gnc.md)."""
