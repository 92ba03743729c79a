"""``ilrs-hil campaign``: Monte Carlo campaigns of the flight software, on Dask.

Every run flies the flight software (``--segment descent``, the default: the executive, topology, GNC
component and device bus of ``make run`` on the afap clock, :mod:`hil.rigs.flight_descent`) against
a plant dispersed by the run's seed (docs/campaigns.md lists each dispersion). Runs are Dask tasks:
on a LocalCluster sized to the machine by default, on an existing cluster with ``--scheduler
tcp://HOST:PORT``. Rows stream into ``results.sqlite`` in the campaign folder as runs end, with a
progress bar and ETA on stderr; running the same folder again flies only the seeds not in it. Then
``campaign.md`` and its PNGs are written next to it. ``--replay SEED`` flies one run again with its
telemetry and plots. Exit 0 when every run of the campaign succeeded.
"""

from hil.rigs.campaign.command import add_arguments, run

__all__ = ["add_arguments", "run"]
