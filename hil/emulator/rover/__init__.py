"""The rover plant: rover-scale terrain around the landing site, the rover's motion, power, thermal
and radio truth, and its emulated devices."""

from .devices import make_rover_devices
from .plant import RoverFaults, RoverPlant, RoverPlantConfig
from .terrain import RockField, RoverTerrain, RoverTerrainConfig

__all__ = ["RockField", "RoverFaults", "RoverPlant", "RoverPlantConfig", "RoverTerrain", "RoverTerrainConfig",
           "make_rover_devices"]
