"""All use-cases in one namespace (`from portvakt.domain import usecases as uc`)."""

from .clients import check_client_scopes, new_client, replace_client_keys
from .orgs import add_org, assign_prefix, require_org
from .scopes import put_scope, set_access, split_scope_name

__all__ = ["add_org", "assign_prefix", "check_client_scopes", "new_client", "put_scope", "replace_client_keys",
           "require_org", "set_access", "split_scope_name"]
