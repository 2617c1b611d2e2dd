"""The one place where swappable parts are chosen from settings and heavy parts are built: once, lazily, shared.

The CLI and the HTTP service both ask this object for what they need; nothing else constructs a knowledge base,
a model or a composer.
"""

from __future__ import annotations

import threading
from functools import cached_property

from app.chain import AnswerChain
from app.composer import Composer, TemplateComposer
from app.config import Settings
from knowledge.interactions import InteractionEngine
from knowledge.lexicon import Lexicon
from knowledge.store import KnowledgeBase


class Components:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()

    @cached_property
    def kb(self) -> KnowledgeBase:
        return KnowledgeBase(self.settings.knowledge_base)

    @cached_property
    def lexicon(self) -> Lexicon:
        return Lexicon(self.kb)

    @cached_property
    def engine(self) -> InteractionEngine:
        return InteractionEngine(self.kb, self.lexicon)

    @cached_property
    def composer(self) -> Composer:
        template = TemplateComposer(self.lexicon)
        if not self.settings.llm_base_url:
            return template
        from app.llm_composer import LlmComposer

        return LlmComposer(
            template,
            self.settings.llm_base_url,
            self.settings.llm_model,
            self.settings.llm_api_key,
            self.settings.llm_timeout_s,
        )

    @cached_property
    def chain(self) -> AnswerChain:
        return AnswerChain(self.engine, self.composer)
