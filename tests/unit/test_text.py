"""What customers type reaches the conversation intact, minus what nobody types on purpose."""
import pytest

from bot.common.text import MAX_CHARS, clean


@pytest.mark.parametrize("raw, expected", [
    ("2 kg of apples 🍎🍎", "2 kg of apples 🍎🍎"),
    ("שלום, אני רוצה תפוחים", "שלום, אני רוצה תפוחים"),  # right-to-left text is kept as written
    ("مرحبا", "مرحبا"),
    ("two\x00 eggs\x07", "two eggs"),
    ("line one\r\nline two", "line one\nline two"),
    ("evil\u202egnp.exe", "evilgnp.exe"),  # a bidi override would show the text reversed
    ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # zero-width joiners inside an emoji stay
    ("cafe\u0301", "café"),  # NFC
    ("  hi  ", "hi"),
])
def test_clean_keeps_what_people_write(raw, expected):
    assert clean(raw) == (expected, False)


def test_long_texts_are_cut_and_marked():
    text, cut = clean("a" * (MAX_CHARS + 10))
    assert cut and len(text) == MAX_CHARS


def test_ingress_stores_the_cleaned_text(pipeline, rt):
    message_id = pipeline.send("2 kg of apples\x00\u202e", channel="whatsapp", address="+14155552671",
                               phone="+14155552671")
    pipeline.drain()
    row = rt.store.db.messages.find_one({"message_id": message_id, "direction": "in"})
    assert row["text"] == "2 kg of apples"
