"""A local stand-in for the Gemini API's `generateContent`, for tests (Gemini itself is unreachable).

It speaks the wire format the real google-genai SDK uses (POST /<version>/models/<model>:generateContent,
key in x-goog-api-key, answer as candidates[0].content.parts[0].text) and can be told what to say:

- readings: `script(customer_message, reading)` answers that line with that JSON; other lines get
  `default_reading` (intent unknown, so the offline reading is used);
- `queue(...)` one-shot answers taken first: a status (500, 429...), "malformed", "blocked", "slow",
  a reading (dict), or raw text;
- `mode`: the same for every call until changed (None = answer normally);
- translations: a small phrase table per language ("es", "fr", "hi"), placeholders kept as sent.

Every request is recorded (path, headers, JSON body) for assertions.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PHRASES = {
    "es": [
        ("Welcome back", "Bienvenido de nuevo"), ("What would you like to do?", "¿Qué te gustaría hacer?"),
        ("Place an order", "Hacer un pedido"), ("Order status", "Estado del pedido"),
        ("Cancel an order", "Cancelar un pedido"), ("Delete my data", "Borrar mis datos"), ("Help", "Ayuda"),
        ("What would you like?", "¿Qué te gustaría?"), ("Say 'done' when you're ready.", "Di 'done' cuando termines."),
        ("For example:", "Por ejemplo:"), ("Added", "Añadido"), ("Your cart:", "Tu carrito:"),
        ("Anything else? Say 'done' to check out.", "¿Algo más? Di 'done' para pagar."),
        ("Here's your order:", "Este es tu pedido:"), ("Deliver to:", "Entregar en:"),
        ("Shall I place it? (yes / no)", "¿Lo confirmo? (yes / no)"), ("Thank you!", "¡Gracias!"),
        ("Order", "El pedido"), ("is placed.", "está confirmado."), ("We'll deliver to", "Lo entregaremos en"),
        ("Apples (Gala)", "Manzanas (Gala)"), ("Large eggs", "Huevos grandes"),
        ("I'm not sure about that, and I'd rather not guess.", "No estoy seguro y prefiero no adivinar."),
        ("Sorry, I can only read English right now.", "Lo siento, por ahora solo leo inglés."),
        ("Monday to Saturday", "De lunes a sábado"),
    ],
    "fr": [("Added", "Ajouté"), ("Your cart:", "Votre panier :"), ("Welcome back", "Bon retour")],
    "hi": [("Added", "जोड़ा गया"), ("Your cart:", "आपकी टोकरी:"), ("Welcome back", "फिर से स्वागत है")],
}
DEFAULT_READING = {"intent": "unknown", "items": [], "language": "en"}


def envelope(text: str, tokens_in: int = 120, tokens_out: int = 30) -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": tokens_in, "candidatesTokenCount": tokens_out,
                              "totalTokenCount": tokens_in + tokens_out}}


def fake_translate(text: str, language: str) -> str:
    for english, other in PHRASES.get(language, []):
        text = text.replace(english, other)
    return text


class FakeGemini:
    def __init__(self, slow_seconds: float = 10.0):
        self.requests: list[dict] = []
        self.readings: dict[str, dict] = {}
        self.default_reading = dict(DEFAULT_READING)
        self.mode: str | int | None = None
        self._queue: list = []
        self.slow_seconds = slow_seconds
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    # -- control --------------------------------------------------------------------------------
    def start(self) -> "FakeGemini":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                fake._handle(self)

        self._stopping.clear()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: connections are refused until `start()` again (same port)."""
        self._stopping.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, message: str, reading: dict) -> None:
        self.readings[message] = reading

    def queue(self, *answers) -> None:
        with self._lock:
            self._queue.extend(answers)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.readings.clear()
            self._queue.clear()
            self.mode = None
            self.default_reading = dict(DEFAULT_READING)

    # -- what was asked -----------------------------------------------------------------------------
    @staticmethod
    def document(request: dict) -> dict:
        """The JSON document the prompt carried as its user turn."""
        return json.loads(request["body"]["contents"][0]["parts"][0]["text"])

    @staticmethod
    def instruction(request: dict) -> str:
        return request["body"]["systemInstruction"]["parts"][0]["text"]

    def readings_asked(self) -> list[dict]:
        return [r for r in self.requests if "customer_message" in self.document(r)]

    def translations_asked(self) -> list[dict]:
        return [r for r in self.requests if "texts" in self.document(r)]

    # -- answering ----------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers.get("Content-Length", 0))) or b"{}")
        request = {"path": h.path, "headers": {k.lower(): v for k, v in h.headers.items()}, "body": body}
        with self._lock:
            self.requests.append(request)
            what = self._queue.pop(0) if self._queue else self.mode
        if what == "slow":
            self._stopping.wait(self.slow_seconds)
            what = None
        if isinstance(what, int):
            return self._send(h, what, {"error": {"code": what, "message": "fake failure",
                                                  "status": "RESOURCE_EXHAUSTED" if what == 429 else "UNAVAILABLE"}})
        if what == "blocked":  # a candidate with no text, as a safety block answers
            return self._send(h, 200, {"candidates": [{"finishReason": "SAFETY"}], "usageMetadata": {}})
        if what == "malformed":
            return self._send(h, 200, envelope('{"intent": "add_items", "items": [{"sku": '))
        if isinstance(what, dict):
            return self._send(h, 200, envelope(json.dumps(what)))
        if isinstance(what, str) and what:
            return self._send(h, 200, envelope(what))
        self._send(h, 200, envelope(json.dumps(self._answer(request))))

    def _answer(self, request: dict) -> dict:
        doc = self.document(request)
        if "texts" in doc:
            return {"texts": [fake_translate(t, doc["language"]) for t in doc["texts"]]}
        return self.readings.get(doc["customer_message"], self.default_reading)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to answer

