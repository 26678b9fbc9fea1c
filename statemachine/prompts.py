"""Every sentence the bot says, in one place, so a shop can reword them and tests can find them."""
from __future__ import annotations

from collections.abc import Iterable

MENU_OPTIONS = ("Place an order", "Order status", "Cancel an order", "Delete my data", "Help", "Talk to a person")
MENU_CHOICES = ("order", "status", "cancel_order", "delete_data", "help", "human")  # intent per option, same order


def numbered(options: Iterable[str]) -> str:
    return "\n".join(f"{i}. {o}" for i, o in enumerate(options, 1))


def welcome(shop: str) -> str:
    return f"Hi! Welcome to {shop}. I can take your order here."


def welcome_back(name: str | None) -> str:
    return f"Welcome back, {name}!" if name else "Welcome back!"


ASK_PHONE = ("To find your account, please share your phone number, or type it with the country code "
             "(for example +1 415 555 2671).")
NOT_A_PHONE = "That doesn't look like a phone number. Please type it with the country code, like +1 415 555 2671."


def code_sent(masked: str, minutes: int) -> str:
    return (f"I've sent a 6-digit code by SMS to {masked}. Please type it here. It expires in {minutes} minutes. "
            "(Say 'resend' for a new code, or 'change number'.)")


def wrong_code(left: int) -> str:
    return f"That code isn't right. You have {left} {'try' if left == 1 else 'tries'} left."


CODE_EXPIRED = "That code has expired. Say 'resend' and I'll send a new one."
TOO_MANY_SENDS = "I've sent several codes already. Please wait a while before asking for another."
CODE_REFUSED_TYPE = ("Sorry, I can't send a code to that kind of number (premium-rate, shared-cost or other "
                     "special numbers). Please type a mobile number.")
CODE_NOT_SENT = "Sorry, I couldn't send a code to that number. Please check it, or type another one."
CODES_UNAVAILABLE = "Sorry, I can't send codes right now. Please try again a little later."
CODE_CHECK_UNAVAILABLE = "Sorry, I couldn't check that code just now. Please type it again in a minute."


def codes_only_to(countries: str) -> str:
    return f"Sorry, I can only send codes to phone numbers from {countries}. Please type a number from there."


# Where no code can be sent (no SMS sender): how this shop learns a customer's number instead.
VERIFY_WAYS = {"telegram": "sharing it with the button in Telegram", "whatsapp": "writing to us from it on WhatsApp",
               "voice": "calling us from it", "app": "the app you're using"}


def verify_by_only(ways: str) -> str:
    return (f"To find your account I need your phone number. This shop confirms numbers only by {ways}, "
            "so I can't check a number typed here.")


def locked(minutes: int) -> str:
    return (f"Too many wrong codes. For your security, verification for that number is locked for {minutes} "
            "minutes. You can try again later or use another number.")


def offer_code(masked: str) -> str:
    return (f"To find your account, shall I text a code to the number you're calling from, {masked}? "
            "Say yes, or tell me another number.")


CONTACT_NOT_OWN = "Please share your own phone number (use the button), or type it."

ASK_NAME = "Nice to meet you! What's your name?"
BAD_NAME = "Please tell me your name (just letters, up to 80 characters), for example \"Ana Lima\"."
ASK_ADDRESS = "Thanks, {name}. What's your delivery address?"
BAD_ADDRESS = ("That doesn't look like a delivery address. Please type the street, number and town, "
               "for example \"12 Main Street, Springfield\".")
REGISTERED = "You're all set, {name}."
ASK_NEW_NAME = "What name should I use?"
ASK_NEW_ADDRESS = "What's the new delivery address?"
DETAILS_KEPT = "Okay, nothing changed."


def name_changed(name: str) -> str:
    return f"Done, I'll call you {name}."


def address_changed(address: str) -> str:
    return f"Done, we'll deliver to {address}."


def menu() -> str:
    return "What would you like to do?\n" + numbered(MENU_OPTIONS)


ORDER_PROMPT = "What would you like? For example: \"2 kg of apples and a dozen eggs\". Say 'done' when you're ready."
ANYTHING_ELSE = "Anything else? Say 'done' to check out."
CART_EMPTY = "Your cart is empty. What would you like?"
CART_CLEARED = "I've emptied your cart."
DIDNT_CATCH_ORDER = ("Sorry, I didn't catch that. Tell me what you'd like (for example \"2 kg of apples\"), "
                     "say 'cart' to see your cart or 'done' to check out.")
DIDNT_CATCH_MENU = "Sorry, I didn't understand. Please pick a number from the menu."
SLOW_DOWN = ("You're sending messages faster than I can keep up with. Please wait a minute; "
             "I'll read your next message after that.")
NOT_TEXT = "Sorry, I can only read text messages. Please type your message."
ENGLISH_ONLY = ("Sorry, I can only read English right now. Could you write that in English? "
                "For example: \"2 kg of apples\", 'menu' or 'help'.")
CANT_ANSWER = ("I don't know the answer to that, and I'd rather not guess. Say 'talk to a person' and someone "
               "from the shop will reply, or tell me what you'd like to order.")


OUT_OF_STOCK_NOTE = " (out of stock right now)"
PRICES = "Here are the prices"


def price_of(name: str, price: str, note: str = "") -> str:
    return f"{name}: {price}{note}."


def in_stock(name: str, price: str) -> str:
    return f"Yes, we have {name}, at {price}."


def product_list(title: str, lines: list[str], more: int) -> str:
    extra = f"\n…and {more} more. Ask about one by name." if more else ""
    return f"{title}:\n" + "\n".join(f"• {line}" for line in lines) + extra


def category_title(category: str) -> str:
    return f"Our {category.lower()}"


def categories(names: list[str]) -> str:
    return (f"We sell: {', '.join(names)}. Ask \"what fruit do you have?\" to see one of them, "
            "or just tell me what you'd like.")


def about(label: str, description: str) -> str:
    return f"{label}: {description}\nIf that doesn't answer your question, say 'talk to a person'."


def cart_header(lines_text: str) -> str:
    return f"Your cart:\n{lines_text}"


def added(desc: str) -> str:
    return f"Added {desc}."


def added_pieces(count: str, name: str, weight: str) -> str:
    return f"Added {count} × {name}, about {weight}."


def now_quantity(name: str, quantity: str) -> str:
    return f"{name}: now {quantity}."


def now_pieces(name: str, quantity: str, count: str) -> str:
    return f"{name}: now {quantity} (about {count})."


def removed(name: str) -> str:
    return f"Removed {name}."


def not_in_cart(name: str) -> str:
    return f"There's no {name} in your cart."


def out_of_stock(name: str) -> str:
    return f"Sorry, {name} is out of stock right now."


def only_left(name: str, available: str) -> str:
    return f"Sorry, we only have {available} of {name} left. Tell me a smaller amount."


def too_many(name: str, limit: str) -> str:
    return f"That's more than I can take for one item; the most is {limit} of {name}."


def zero_quantity(name: str) -> str:
    return f"How many {name} would you like? Please give a number above zero."


def wrong_unit(name: str, unit: str) -> str:
    return f"{name} is sold by the {unit}. How many would you like?" if unit not in ("each",) else \
        f"{name} is sold by the piece. How many would you like?"


READ_PART = "That was a long message, so I only read the first part of it. Please send the rest in another message."


def too_little(name: str, smallest: str) -> str:
    return f"The smallest amount of {name} I can sell is {smallest}. How much would you like?"


def by_weight(name: str, unit: str) -> str:
    return (f"{name} is sold by weight and I can't tell what that many would weigh. How many {unit} would you "
            f"like? For example \"1 {unit}\".")


def vague_amount(text: str) -> str:
    return f"I couldn't tell how much you meant by \"{text}\". Please give a number, like \"2 packs\" or \"1 kg\"."


def which_one(text: str, options: list[str]) -> str:
    return f"Which {text} did you mean?\n" + numbered(options) + "\nReply with the number."


def which_one_again(text: str, options: list[str]) -> str:
    return (f"Sorry, I still don't know which {text} you meant. Reply with a number, or a word from its name:\n"
            + numbered(options) + "\n(Say 'none' to leave it out.)")


def skipped(text: str) -> str:
    return f"Okay, no {text}."


def left_out(text: str) -> str:
    return f"I've left out the {text}; tell me which one if you still want it."


def unknown_product(text: str, suggestions: list[str]) -> str:
    if suggestions:
        return f"I couldn't find \"{text}\". Did you mean: {', '.join(suggestions)}?"
    return f"Sorry, we don't have \"{text}\"."


def dropped_from_catalog(count: int) -> str:
    return f"{count} item(s) in your cart are no longer sold and were removed."


def confirm(summary: str, address: str | None) -> str:
    where = f"\nDeliver to: {address}" if address else ""
    return f"Here's your order:\n{summary}{where}\nShall I place it? (yes / no)"


CONFIRM_YES_NO = "Please answer yes to place the order, or no to change it."
BACK_TO_ORDER = "No problem. What would you like to change?"


def placed(number: str, total: str, address: str | None) -> str:
    where = f" We'll deliver to {address}." if address else ""
    return f"Thank you! Order #{number} is placed. Total: {total}.{where}"


def sold_out_meanwhile(names: list[str]) -> str:
    return f"Sorry, while we were talking, we ran out of: {', '.join(names)}."


NO_ORDERS = "You haven't placed any orders yet."


def status_lines(lines: list[str]) -> str:
    return "Your recent orders:\n" + "\n".join(lines)


NOTHING_TO_CANCEL = "You have no orders that can still be cancelled (orders on their way can't be)."


def cancel_which(options: list[str]) -> str:
    return "Which order should I cancel?\n" + numbered(options) + "\nReply with the number, or 'menu'."


def cancel_confirm(desc: str) -> str:
    return f"Cancel order {desc}? (yes / no)"


def cancelled(number: str) -> str:
    return f"Order #{number} is cancelled."


def cancel_too_late(number: str) -> str:
    return f"Sorry, order #{number} can no longer be cancelled; it's already on its way."


KEEP_ORDER = "Okay, I won't cancel anything."
DELETE_CONFIRM = ("This erases your name, phone number, address and our message history. Past orders stay in "
                  "the shop's books without your details. Reply YES to delete everything, or no to keep it.")
DELETED = "Done. Everything we held about you is deleted. If you message again, we'll start fresh."
NOT_DELETED = "Okay, nothing was deleted."
STOPPED = "Okay, stopped. Say hi whenever you'd like to start again."
RESTARTED = "Starting over."
SET_UP_FIRST = "Let's get you set up first."
HANDOFF_STARTED = ("I've asked a person from the shop to take over. They'll reply here as soon as they can; "
                   "anything you write meanwhile reaches them.")
HANDED_BACK = "You're back with the shop's ordering assistant."


def help_text(state: str) -> str:
    where = {
        "verify": "Right now I need your phone number so I can find your account.",
        "register": "Right now I'm setting up your account: just answer the question.",
        "order": "Right now you're shopping: tell me items and amounts, say 'cart' to see it, "
                 "'remove eggs' to take something out, or 'done' to check out.",
        "confirm": "Right now I'm waiting for a yes or no to place your order.",
        "address": "Right now I need a delivery address in one of the areas we deliver to.",
        "substitute": "Right now I'm asking whether to take the alternative for an item that ran out.",
        "slot": "Right now you're choosing when we should deliver: pick a slot's number.",
        "payment": "Right now you're choosing how to pay: pick a number.",
        "cancel": "Right now you're choosing an order to cancel.",
        "delete": "Right now I'm asking whether to delete your data.",
    }.get(state, "")
    # never invites a lone opt-out word (STOP, CANCEL, END, QUIT...): on SMS it would unsubscribe the customer
    return ("I'm the shop's ordering assistant. You can order by typing what you need, check an order's status, "
            "cancel an order before it's on its way, delete your data, or talk to a person. Say 'menu' for options "
            "or to go back, or 'restart' to start over. Say 'start reminders' to be reminded of a cart you leave "
            "behind, or 'stop reminders' to get no messages you didn't ask for." + (f"\n{where}" if where else ""))

# Texted by SMS outside the conversation (bot/customers/codes.py): the one-time code itself.
SMS = {
    "code": "{shop}: your code is {code}. It expires in {minutes} minutes. Never share it.",
}

# -- messages the shop sends first, and the customer's answers (statemachine/outreach.py) ------

RESTOCK_OFFER = "Say 'tell me when it's back' and I'll message you once it's in stock."


def restock_noted(names: str) -> str:
    return (f"Okay, I'll message you once {names} is back in stock. "
            "(Say 'stop reminders' if you'd rather not get messages like that.)")


RESTOCK_WHICH = "Which product should I tell you about? For example: \"tell me when saffron is back\"."


def in_stock_now(name: str) -> str:
    return f"Good news: {name} is in stock right now. Tell me how many you'd like."


def back_in_stock(name: str, price: str) -> str:
    return (f"Good news: {name} is back in stock ({price}). Tell me how many you'd like, "
            "or say 'stop reminders' to stop messages like this.")


def items_count(count: int) -> str:
    return "1 item" if count == 1 else f"{count} items"


def cart_reminder(items: str) -> str:
    return (f"You left {items} in your cart. Say 'done' to check out, 'cart' to see it, "
            "or 'stop reminders' to stop reminders like this.")


def ask_feedback(number: str) -> str:
    return (f"Order #{number} was delivered. How did we do? Reply with a number from 1 (poor) to 5 (great), "
            "and a comment if you like.")


def feedback_thanks(rating: int) -> str:
    return f"Thank you for your feedback! You rated us {rating} out of 5."


FEEDBACK_SORRY = "Sorry it wasn't better: the shop will read what you said."
REMINDERS_OFF = ("Okay: no more reminders or messages you didn't ask for (updates on your orders still come). "
                 "Say 'start reminders' to turn them back on.")
REMINDERS_ON = ("Okay: I'll remind you of a cart you leave behind and tell you when products you asked about are "
                "back. Say 'stop reminders' any time.")

# Said by the worker outside a turn (not by the machine, workers/apology.py): tested through the pipeline.
OUTSIDE_A_TURN = {
    "parked": "Sorry, something went wrong on our side and I couldn't process your last message. "
              "A person will look at it.",
}

# What a customer is told when their order moves on (an operator moves it, the payment arrives or
# expires): said by bot/customers/notify.py, not by a turn of the conversation, so a dict
# (tests/unit/test_operator_orders.py and test_payments.py send each one).
ORDER_UPDATES = {
    "preparing": "Update: order #{number} is being prepared.",
    "out_for_delivery": "Update: order #{number} is on its way to you.",
    "delivered": "Update: order #{number} has been delivered. Thank you for shopping with us!",
    "cancelled": "Sorry, the shop had to cancel order #{number}. Reply here if you have any questions.",
    "paid": "Payment received for order #{number}. Thank you! Your order is confirmed.",
    "expired": "Order #{number} wasn't paid in time, so it's cancelled and nothing was charged. "
               "You're welcome to order again.",
}


# What goes in the order-update template's {{2}} when WhatsApp's 24-hour window is closed
# (WHATSAPP_TEMPLATE_ORDER_UPDATE: "Update: order #{{1}} {{2}}." or the shop's own wording).
ORDER_UPDATE_WORDS = {
    "preparing": "is being prepared",
    "out_for_delivery": "is on its way to you",
    "delivered": "has been delivered",
    "cancelled": "was cancelled by the shop",
    "paid": "is paid and confirmed",
    "expired": "was not paid in time and is cancelled",
}


def already_linked(phone: str) -> str:
    return f"This chat is already linked to {phone}."


# -- checkout: the shop's rules (statemachine/checkout.py, slots.py, payment.py) --------------

def below_minimum(items: str, missing: str, minimum: str) -> str:
    return f"Your items come to {items}: add {missing} more to reach the {minimum} minimum. What else would you like?"


def items_line(items: str) -> str:
    return f"Items: {items}"


def delivery_line(fee: str, free_over: str) -> str:
    return f"Delivery: {fee} (free over {free_over})" if free_over else f"Delivery: {fee}"


def delivery_free_line(free_over: str) -> str:
    return f"Delivery: free (orders over {free_over})"


def total_line(total: str) -> str:
    return f"Total: {total}"


def slot_line(label: str) -> str:
    return f"Delivery slot: {label}"


def payment_line(label: str) -> str:
    return f"Payment: {label}"


def outside_area(areas: str) -> str:
    return (f"Sorry, we don't deliver to that address. We deliver to: {areas}. "
            "Please type a delivery address in one of those areas, or say 'menu'.")


def new_address(address: str) -> str:
    return f"Thanks, I'll deliver to {address}."


def closed_refuse(when: str) -> str:
    return f"Sorry, we're closed right now and can't take orders. We open again {when}; I'll keep your cart."


def closed_accept(when: str) -> str:
    return f"We're closed right now: your order will be handled from {when}."


def choose_slot(options: list[str]) -> str:
    return "When should we deliver?\n" + numbered(options) + "\nReply with the number, or 'later' for later slots."


def no_slots(days: int) -> str:
    return f"Sorry, every delivery slot in the next {days} days is full. Please try again later; I'll keep your cart."


SLOT_WHICH = "Please pick a delivery slot by its number."
NO_LATER_SLOTS = "Those are the latest slots I can offer."


def slot_taken(label: str) -> str:
    return f"Sorry, the {label} slot just filled up."


PAYMENT_LABELS = {"on_delivery": "On delivery (cash or card)", "online": "Online now, by card (a secure Stripe link)"}


def choose_payment(options: list[str]) -> str:
    return "How would you like to pay?\n" + numbered(options) + "\nReply with the number."


PAYMENT_WHICH = "Please pick how you'd like to pay by its number."


def ran_out_offer(name: str, alternative: str) -> str:
    return f"Sorry, {name} ran out. The closest we have is {alternative}."


def take_instead(name: str) -> str:
    return f"Take {name} instead"


WITHOUT_IT = "Go on without it"
SUBSTITUTE_WHICH = "Please answer 1 to take the alternative, or 2 to go on without it."


def ran_out_nothing_similar(name: str) -> str:
    return f"Sorry, {name} ran out and we have nothing similar, so I've taken it out of your cart."


def only_left_now(name: str, available: str) -> str:
    return f"Only {available} of {name} is left, so I've changed your cart to that."


def substituted(desc: str) -> str:
    return f"Okay: {desc} instead."


def going_on_without(name: str) -> str:
    return f"Okay, going on without {name}."


def placed_slot(label: str) -> str:
    return f"Delivery: {label}."


def placed_fee(fee: str) -> str:
    return f"That includes {fee} delivery."


PAY_ON_DELIVERY = "You'll pay on delivery, in cash or by card."


def awaiting_payment(number: str, total: str, url: str, until: str) -> str:
    return (f"Order #{number} is reserved for you. Total: {total}. Pay securely here: {url}\n"
            f"The link works until {until}; I'll confirm here as soon as the payment arrives.")


def payment_fallback(number: str, total: str) -> str:
    return (f"I couldn't reach the payment service just now, so order #{number} is placed to pay on delivery "
            f"instead. Total: {total}.")


PLACEMENT_STALE = "Sorry, that took too long on our side and the order wasn't placed. Say yes to try again."


def reordered(number: str) -> str:
    return f"I've filled your cart from your last order (#{number}), at today's prices."


def reorder_changes(lines: list[str]) -> str:
    return "What changed since then:\n" + "\n".join(f"• {line}" for line in lines)


def price_changed(name: str, old: str, new: str) -> str:
    return f"{name} is now {new} (was {old})"


def reorder_out(name: str) -> str:
    return f"{name} is out of stock, so I left it out"


def reorder_less(name: str, available: str) -> str:
    return f"only {available} of {name} is left, so I put that in"


def reorder_gone(name: str) -> str:
    return f"{name} is no longer sold"


NOTHING_TO_REORDER = "You haven't ordered anything before, so there's nothing to repeat. What would you like?"
REORDER_NOTHING_LEFT = "Sorry, nothing from your last order is in stock right now. What would you like instead?"


# The shop's rules in words: answers to "how much is delivery?" and the FAQ's entries about the
# rules (bot/shop/faq.py), made from the same shop file checkout applies.

def rule_fee(fee: str, free_over: str) -> str:
    return f"Delivery costs {fee}, and it's free for orders of {free_over} or more." if free_over else \
        f"Delivery costs {fee}."


RULE_FREE_DELIVERY = "Delivery is free."


def rule_area_fee(area: str, fee: str) -> str:
    return f"To {area}, delivery costs {fee}."


def rule_minimum(minimum: str) -> str:
    return f"The minimum order for delivery is {minimum} worth of products."


RULE_NO_MINIMUM = "There's no minimum order."


def rule_areas(areas: str) -> str:
    return f"We deliver to: {areas}."


RULE_ANYWHERE = "We deliver to any address."


def rule_hours(schedule: str, zone: str) -> str:
    return f"We handle orders {schedule} ({zone} time)."


def rule_slots(length: str, schedule: str, days: int, cutoff: str) -> str:
    return (f"We deliver in {length} slots, {schedule}, up to {days} days ahead; you choose one at checkout, "
            f"and a slot can be booked until {cutoff} before it starts.")


def rule_payment(methods: str) -> str:
    return f"You can pay {methods}."
