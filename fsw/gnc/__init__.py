"""Flight-side guidance, navigation and control: powered descent and ascent (see docs/gnc.md)."""
