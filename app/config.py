"""The one settings object. Built once at start-up from the environment (prefix RXLENS_) and passed down.

Defaults are the embedded, offline, local-only configuration: a SQLite knowledge base under var/, bundled models.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RXLENS_", env_file=None, extra="ignore")

    var_dir: Path = Field(Path("var"), description="Where built artefacts and user data live.")
    kb_path: Path | None = Field(None, description="Compiled knowledge base; default var_dir/knowledge.sqlite.")

    @property
    def knowledge_base(self) -> Path:
        return self.kb_path or self.var_dir / "knowledge.sqlite"


def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # values come from the environment
