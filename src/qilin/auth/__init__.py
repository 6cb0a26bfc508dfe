"""Users, roles, region scopes (区域权限), sessions and API tokens."""
