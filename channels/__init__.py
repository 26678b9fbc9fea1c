"""The channels' adapters, thin and alike: a webhook is verified, parsed into an InboundMessage and
accepted (bot/pipeline/ingress.py); a Sender (base.py) sends the worker's replies through the
channel's own API. Telegram (telegram.py), WhatsApp and SMS (twilio_messaging.py, sms_text.py),
calls (voice.py, speech.py), what Twilio's share (twilio_common.py), integrators (api.py), Twilio
Verify's codes (twilio_verify.py) and the embedded default's SMS box (dev_sms.py). No business rule
lives here."""
