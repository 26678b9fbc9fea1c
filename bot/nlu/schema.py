"""The JSON the model must answer with, as pydantic models the SDK turns into Gemini's response schema.

Deliberately loose (no bounds, free strings): the schema shapes the answer, and validate.py decides
what of it to believe, so a negative quantity is refused and counted rather than failing the parse.
There is no field for prices, totals or stock: the model is never asked for them.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from bot.nlu.types import INTENTS

# phone numbers, codes and changes of name or address are read offline: the model never sees them
OFFLINE_ONLY = ("phone", "code", "other_language", "change_name", "change_address", "name", "address")
MODEL_INTENTS = tuple(i for i in INTENTS if i not in OFFLINE_ONLY)


class ModelItem(BaseModel):
    sku: str | None = Field(None, description="the sku of a catalog_candidates entry, or null when none fits")
    name: str = Field("", description="the product in English, as the customer means it (e.g. 'apples')")
    quantity: float = Field(1, description="how much, in `unit`; for remove, 0")
    unit: str | None = Field(None, description="the unit the customer used (kg, g, l, ml, each, dozen, pack...); "
                                               "each for pieces counted ('6 bananas'); null for the product's own unit")
    action: Literal["add", "remove", "set"] = "add"


class ModelReading(BaseModel):
    intent: Literal[MODEL_INTENTS]  # type: ignore[valid-type]
    items: list[ModelItem] = Field(default_factory=list)
    choice: int | None = Field(None, description="for intent choice: the number picked from the list shown")
    answer: str | None = Field(None, description="for intent question: a short answer in English from the cited "
                                                 "catalog candidates and FAQ entries only, or null")
    cited_skus: list[str] = Field(default_factory=list, description="skus whose data the answer uses")
    cited_faq: list[str] = Field(default_factory=list, description="FAQ topics whose answers the answer uses")
    language: str = Field("en", description="ISO 639-1 code of the language of customer_message")


class ModelTranslation(BaseModel):
    texts: list[str] = Field(default_factory=list, description="each input text translated, same order")


class ModelReadingWithReply(ModelReading):
    """A reading, and the reply lines the prompt sent (`reply_to_translate`) in the customer's language."""

    reply_texts: list[str] = Field(default_factory=list, description="each reply_to_translate line, translated "
                                                                      "into the language of customer_message")
