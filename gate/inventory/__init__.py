"""The organisation-wide inventory: every verified record of every environment, in SQLite (default) or
PostgreSQL, so ``gate affected`` can say in a second which environments carry a package or an advisory,
and ``gate monitor`` can judge them all again each night. SQLAlchemy is imported with this package:
only the commands that use the inventory load it."""

from gate.inventory.store import (
    INVENTORY_VARIABLE,
    POSTGRES_EXTRA_MISSING,
    AddResult,
    Carrier,
    EnvironmentSummary,
    Identity,
    Inventory,
    RecordEntry,
    StoredRecord,
    default_inventory_path,
    describe,
    identity_of,
    inventory_url,
)

__all__ = [
    "INVENTORY_VARIABLE",
    "POSTGRES_EXTRA_MISSING",
    "AddResult",
    "Carrier",
    "EnvironmentSummary",
    "Identity",
    "Inventory",
    "RecordEntry",
    "StoredRecord",
    "default_inventory_path",
    "describe",
    "identity_of",
    "inventory_url",
]
