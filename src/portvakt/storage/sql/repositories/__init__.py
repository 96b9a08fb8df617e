"""The SQL repositories, one module per concern, that a SqlUnitOfWork composes over one transaction."""

from .audit import SqlAuditLog
from .base import SqlRepository, SqlTransaction
from .clients import SqlClients
from .delegations import SqlDelegations
from .orgs import SqlOrganisations
from .people import SqlPeople
from .scopes import SqlScopes
from .signing_keys import SqlSigningKeys

__all__ = ["SqlAuditLog", "SqlClients", "SqlDelegations", "SqlOrganisations", "SqlPeople", "SqlRepository",
           "SqlScopes", "SqlSigningKeys", "SqlTransaction"]
