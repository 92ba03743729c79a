"""The ascender's attitude control: the lander's 50 Hz law (``fsw.gnc.attitude_control``) on the
ascender's own thrusters and mass properties.

The ascender carries sixteen thrusters in the lander's pattern and numbering (four clusters on
the diagonals, the same groups of four for a pure torque about each axis), smaller and closer in.
Design figures [est.], docs/gnc.md: 20 N thrusters 0.8 m from the thrust axis; the inertia from
the dry build and the propellant the navigation estimates. The engine's offset torque it holds
against is a few N m to some tens (a 3000 N thrust a fraction of a degree off, half a metre from
the centre of mass), well inside one group's 45 N m.
"""

from __future__ import annotations

import math

from fsw.gnc.attitude import Vector3
from fsw.gnc.attitude_control import AttitudeControlConfig, AttitudeController

ASCENDER_THRUSTER_N = 20.0
ASCENDER_ARM_M = 0.8
ASCENDER_GROUP_TORQUE_NM = (4.0 * ASCENDER_THRUSTER_N * ASCENDER_ARM_M,
                            2.0 * math.sqrt(2.0) * ASCENDER_THRUSTER_N * ASCENDER_ARM_M,
                            2.0 * math.sqrt(2.0) * ASCENDER_THRUSTER_N * ASCENDER_ARM_M)
ASCENDER_DRY_INERTIA = (110.0, 155.0, 155.0)  # kg m^2, design [est.]
ASCENDER_FULL_PROPELLANT_INERTIA = (70.0, 60.0, 60.0)
ASCENDER_FULL_PROPELLANT_KG = 480.0

#: The law's gains are the lander's; its learnt disturbance is capped at what the ascender's
#: groups can deliver, and the slews of the pitch-over stay below 6 deg/s.
ASCENDER_CONTROL = AttitudeControlConfig(integral_limit_nm=40.0)


class AscenderAttitudeController(AttitudeController):
    group_torque_nm = ASCENDER_GROUP_TORQUE_NM
    thruster_n = ASCENDER_THRUSTER_N

    def __init__(self, config: AttitudeControlConfig | None = None) -> None:
        super().__init__(config or ASCENDER_CONTROL)

    def design_inertia(self, propellant_kg: float) -> Vector3:
        fill = max(0.0, min(1.0, propellant_kg / ASCENDER_FULL_PROPELLANT_KG))
        dry, full = ASCENDER_DRY_INERTIA, ASCENDER_FULL_PROPELLANT_INERTIA
        return (dry[0] + fill * full[0], dry[1] + fill * full[1], dry[2] + fill * full[2])
