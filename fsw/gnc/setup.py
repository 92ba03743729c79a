"""Building the flight GNC from what the ground hands over before descent.

Before powered descent the ground uploads the orbit-determination state vector and the landing
site's coarse terrain map; the lander builds its navigator and guidance from them. The same
construction serves an in-process emulator, a plant on a device bus, and a Raspberry Pi bench.
"""

from __future__ import annotations

from fsw.devices.descent import DescentHandover
from fsw.gnc.controller import DescentController, DescentDevices, FaultResponses
from fsw.gnc.guidance import DescentGuidance, GuidanceConfig
from fsw.gnc.navigation import Navigator, TerrainMap


def make_descent_controller(devices: DescentDevices, handover: DescentHandover,
                            guidance_config: GuidanceConfig | None = None,
                            responses: FaultResponses | None = None) -> DescentController:
    terrain_map = TerrainMap(handover.map_spacing_m, tuple(handover.map_heights_m))
    navigator = Navigator(
        terrain_map, t=0.0, h=handover.height_m, s=handover.downrange_m, c=handover.crossrange_m,
        vu=handover.vertical_speed_m_s, vd=handover.downrange_speed_m_s, vc=handover.crossrange_speed_m_s,
        dry_mass_kg=handover.dry_mass_kg, propellant_kg=handover.propellant_kg,
    )
    if guidance_config is None:
        guidance_config = GuidanceConfig(
            target_downrange_m=handover.target_downrange_m,
            target_crossrange_m=handover.target_crossrange_m,
            target_terrain_height_m=terrain_map.height(handover.target_downrange_m),
            exhaust_velocity_m_s=handover.exhaust_velocity_m_s,
            braking_start_height_m=handover.braking_start_height_m,
            braking_start_speed_m_s=handover.downrange_speed_m_s,
        )
    return DescentController(devices, navigator, DescentGuidance(guidance_config), responses=responses)
