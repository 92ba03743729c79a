"""Checkout: the vehicle answers, executes a command, and reaches NOMINAL.

Run with: ilrs-ground --port /dev/ttyUSB0 run ground/procedures/checkout.py
"""

from __future__ import annotations

from ground.procedure import Procedure


async def procedure(p: Procedure) -> None:
    p.log("checkout: link, command path, mode")
    rtt = await p.ping()
    p.check(rtt > 0, "ping answered")
    await p.send("NOOP")
    answer = await p.prompt("command NOMINAL mode?")
    p.check(answer.lower() in ("y", "yes"), "operator agreed to NOMINAL")
    await p.send("MODE_SET", mode="NOMINAL")
    await p.wait_until("mode", "NOMINAL", timeout=p.session.timeout(10.0))
    p.check(p.tlm("mode") == "NOMINAL", "mode is NOMINAL in housekeeping")
