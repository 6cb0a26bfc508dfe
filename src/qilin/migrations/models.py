"""Every table's model, imported so that ``Base.metadata`` is complete for migrations and tests."""

from qilin.audit import hooks as audit_hooks
from qilin.audit import models as audit_models
from qilin.auth import models as auth_models
from qilin.db import Base
from qilin.discovery import leads_models, runs_models
from qilin.registry import models as registry_models
from qilin.tiers import models as tiers_models
from qilin.tiers import selection_models

__all__ = [
    "Base",
    "audit_hooks",
    "audit_models",
    "auth_models",
    "leads_models",
    "registry_models",
    "runs_models",
    "selection_models",
    "tiers_models",
]
