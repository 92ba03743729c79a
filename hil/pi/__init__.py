"""Raspberry Pi bench backends: gpiozero lines, smbus2 sensors (MPU-6050, BMP280), the plant UART
and register-level stand-ins for ``emulated`` devices. Built from a bench TOML file by
:func:`hil.pi.devices.build_devices`; the flight software reaches them only through
the ``pi`` platform (:func:`hil.platforms.pi`).
"""
