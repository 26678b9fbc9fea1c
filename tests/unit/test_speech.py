"""Replies phrased for the ear: the voice channel's rendering of the conversation's own prompts."""
from __future__ import annotations

import pytest

from channels.speech import for_the_ear
from statemachine import prompts


def test_the_menu_is_read_as_spoken_choices():
    assert for_the_ear(prompts.menu()) == (
        "What would you like to do? Say or press 1 for Place an order, 2 for Order status, 3 for Cancel an order, "
        "4 for Delete my data, 5 for Help, or 6 for Talk to a person.")


def test_a_cart_is_read_without_bullets_times_signs_dashes_or_dollar_signs():
    cart = ("Added 2 kg × Apples (Gala).\nYour cart:\n• 2 kg × Apples (Gala) — $5.98\n• 12 × Large eggs — $3.49\n"
            "• 0.5 kg × Carrots — $0.75\n• 1.5 l × Whole milk — $1.94\nTotal: $1,012.16\n" + prompts.ANYTHING_ELSE)
    assert for_the_ear(cart) == (
        "Added 2 kilograms of Apples, Gala. Your cart: 2 kilograms of Apples, Gala, 5 dollars and 98 cents. "
        "12 Large eggs, 3 dollars and 49 cents. half a kilogram of Carrots, 75 cents. 1 and a half litres of "
        "Whole milk, 1 dollar and 94 cents. Total: 1012 dollars and 16 cents. Anything else? Say done to check out.")


@pytest.mark.parametrize("text, spoken", [
    (prompts.confirm("• 1 × White bread — $2.99\nTotal: $2.99", "12 Main St"),
     "Here's your order: 1 White bread, 2 dollars and 99 cents. Total: 2 dollars and 99 cents. "
     "Deliver to: 12 Main St. Shall I place it? Say yes or no."),
    (prompts.which_one("milk", ["Whole milk ($1.29/l)", "Skim milk ($1.00/l)"]),
     "Which milk did you mean? Say or press 1 for Whole milk, at 1 dollar and 29 cents a litre, "
     "or 2 for Skim milk, at 1 dollar a litre."),
    (prompts.code_sent("+1 ••• ••• 2671", 5),
     "I've sent a 6-digit code by SMS to the number ending in 2 6 7 1. Please say it, or key it in. "
     "It expires in 5 minutes. Say resend for a new code, or change number."),
    (prompts.cancel_which(["#12 (Jan 03, $9.47)", "#13 (Jan 04, $1.01)"]),
     "Which order should I cancel? Say or press 1 for number 12, January 3, 9 dollars and 47 cents, "
     "or 2 for number 13, January 4, 1 dollar and 1 cent. Or say menu."),
    (prompts.placed("12", "£9.00", None), "Thank you! Order number 12 is placed. Total: 9 pounds."),
    (prompts.ORDER_PROMPT, "What would you like? For example: 2 kilograms of apples and a dozen eggs. "
                           "Say done when you're ready."),
    (prompts.ASK_PHONE, "To find your account, please say your phone number, or key it in."),
    ("Great 🎉 thanks! 👍🏽", "Great thanks!"),
])
def test_prompts_written_for_screens_are_said_naturally(text, spoken):
    assert for_the_ear(text) == spoken


def test_every_help_text_mentions_no_typing():
    for state in ("menu", "verify", "register", "order", "confirm", "cancel", "delete"):
        said = for_the_ear(prompts.help_text(state))
        assert "typing" not in said and "'" not in said.replace("'s", "").replace("n't", "").replace("'re", "") \
            .replace("'m", "").replace("'ll", "").replace("'d", "")


def test_the_shops_rules_read_for_the_ear():
    assert for_the_ear("Your items come to $18.66: add $1.34 more to reach the $20 minimum. What else would you "
                       "like?") == ("Your items come to 18 dollars and 66 cents: add 1 dollar and 34 cents more to "
                                    "reach the 20-dollar minimum. What else would you like?")
    slots = for_the_ear("When should we deliver?\n1. Today 1 PM–3 PM\n2. Thu Jan 14 5 PM–7:30 PM\n"
                        "Reply with the number, or 'later' for later slots.")
    assert slots == ("When should we deliver? Say or press 1 for Today 1 PM to 3 PM, or 2 for Thursday January 14 "
                     "5 PM to 7:30 PM. Or say later, for later times.")
    fee = for_the_ear("Items: $43.90\nDelivery: $4.99 (free over $50)\nTotal: $48.89\nDelivery slot: Today 1 PM–3 PM")
    assert fee == ("Items: 43 dollars and 90 cents. Delivery: 4 dollars and 99 cents, free over 50 dollars. "
                   "Total: 48 dollars and 89 cents. Delivery slot: Today 1 PM to 3 PM.")
    assert "Sun-dried" in for_the_ear("Sun-dried tomatoes (Sun Jan 3)")  # only a weekday before a date is read out
