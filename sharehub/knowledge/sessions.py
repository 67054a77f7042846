"""Knowledge side: sessions (services: every write validates, asks the policy, changes rows and records its event
in one transaction)."""


def register() -> None:
    """Called once from KnowledgeConfig.ready: event descriptions, log readers, jobs, panels."""
