"""``gate monitor``: every environment judged again against today's advisories, and what changed since
its decision (:mod:`gate.monitor.core`), read from the inventory, records or SBOMs
(:mod:`gate.monitor.inputs`), rendered (:mod:`gate.monitor.render`) and sent (:mod:`gate.monitor.notify`)."""

from gate.monitor.core import KINDS, Change, EnvironmentReport, MonitorReport, Subject, judge, monitor

__all__ = ["KINDS", "Change", "EnvironmentReport", "MonitorReport", "Subject", "judge", "monitor"]
