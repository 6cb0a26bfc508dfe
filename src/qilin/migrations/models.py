"""Every table's model, imported so that ``Base.metadata`` is complete for migrations and tests."""

from qilin.db import Base
from qilin.discovery import leads_models, runs_models
from qilin.registry import models as registry_models
from qilin.tiers import models as tiers_models
from qilin.tiers import selection_models

__all__ = ["Base", "leads_models", "registry_models", "runs_models", "selection_models", "tiers_models"]
