"""Understanding text: one entry point, `understand(text, ctx) -> NluResult`, whatever the backend.

The offline parser always exists (the conversation works fully offline); a language-model backend,
when configured (GEMINI_API_KEY), sits in front of it and falls back to it. The same backend puts
replies into the customer's language (`translate`); without it, replies stay English.
"""
from bot.nlu.types import NluContext, NluResult, Understander
from bot.nlu.understanding import Understanding, build_understander

__all__ = ["NluContext", "NluResult", "Understander", "Understanding", "build_understander"]
