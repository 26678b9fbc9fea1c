"""A local stand-in for the Gemini API's `generateContent`, for tests and the benchmark (Gemini itself
is unreachable), as strict as the real API where Orderline could get it wrong.

It speaks the wire format the real google-genai SDK uses (POST /<version>/models/<model>:generateContent,
key in x-goog-api-key, answer as candidates[0].content.parts[0].text) and refuses what the real API
refuses, with the real API's status and wording:

- an unknown API version or model, or a retired model: 404 NOT_FOUND ("models/x is not found for
  API version v1beta, or is not supported for generateContent...");
- a wrong key: 400 INVALID_ARGUMENT "API key not valid..." (reason API_KEY_INVALID); no key: 403;
- a field the version does not know: 400 "Invalid JSON payload received. Unknown name ...". On `v1`
  that includes systemInstruction, responseMimeType, responseSchema and thinkingConfig (what
  googleapis/python-genai#1837 reports), so an unpinned SDK (google-genai 3.4 defaults to v1) fails;
- thinking the model does not take: a thinking_level on a 2.5 model, a level the model lacks
  (MINIMAL on 3.7/3.8 Flash), budget and level together, budget 0 on 2.5 Pro.

It can be told what to say:
- readings: `script(customer_message, reading)` answers that line with that JSON; other lines get
  `default_reading` (intent unknown, so the offline reading is used). A reading request carrying
  `reply_to_translate` gets those lines translated into the reading's language (`reply_texts`);
- `queue(...)` one-shot answers taken first: a status (500, 429...), "malformed", "blocked", "slow",
  a reading (dict), or raw text;
- `mode`: the same for every call until changed (None = answer normally);
- `latency`: seconds every answer takes (a slow model that still answers);
- translations: a small phrase table per language ("es", "fr", "hi"), placeholders kept as sent.

Every request is recorded (path, headers, JSON body, when it started and ended) for assertions;
`most_at_once()` is the most of them it was answering at once (`max_in_flight`: since it started).
"""
from __future__ import annotations

import json
import re
import threading
import time
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
        ("Monday to Saturday", "De lunes a sábado"), ("Welcome to", "Bienvenido a"),
        ("What's your name?", "¿Cómo te llamas?"),
    ],
    "fr": [("Added", "Ajouté"), ("Your cart:", "Votre panier :"), ("Welcome back", "Bon retour")],
    "hi": [("Added", "जोड़ा गया"), ("Your cart:", "आपकी टोकरी:"), ("Welcome back", "फिर से स्वागत है")],
}
DEFAULT_READING = {"intent": "unknown", "items": [], "language": "en"}
FULL = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
# model -> thinking levels it takes (None: a 2.5 model, which takes a budget and no level)
MODELS = {
    "gemini-3.5-flash-lite": FULL, "gemini-3.1-flash-lite": FULL, "gemini-3-flash-preview": FULL,
    "gemini-3.5-flash": FULL, "gemini-3.6-flash": FULL,
    "gemini-3.7-flash": FULL[1:], "gemini-3.8-flash": FULL[1:], "gemini-3.1-pro-preview": FULL[1:],
    "gemini-2.5-flash": None, "gemini-2.5-flash-lite": None, "gemini-2.5-pro": None,
}
RETIRED = ("gemini-2.0-flash", "gemini-2.0-flash-001", "gemini-2.0-flash-lite", "gemini-2.0-flash-lite-001",
           "gemini-1.5-flash", "gemini-1.5-pro", "gemini-3-pro-preview", "gemini-3.1-flash-lite-preview")
FIELDS = {"contents", "systemInstruction", "generationConfig", "safetySettings", "tools", "toolConfig",
          "cachedContent"}
CONFIG_FIELDS = {"temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences", "seed",
                 "presencePenalty", "frequencyPenalty", "responseMimeType", "responseSchema", "responseJsonSchema",
                 "thinkingConfig", "responseModalities", "mediaResolution", "responseLogprobs", "logprobs"}
NOT_IN_V1 = {"systemInstruction", "responseMimeType", "responseSchema", "responseJsonSchema", "thinkingConfig"}
_PATH = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):generateContent$")


class Refused(Exception):
    def __init__(self, code: int, status: str, message: str, reason: str | None = None):
        super().__init__(message)
        self.payload = {"error": {"code": code, "message": message, "status": status}}
        if reason:
            self.payload["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                 "reason": reason, "domain": "googleapis.com"}]
        self.code = code


def envelope(text: str, tokens_in: int = 120, tokens_out: int = 30) -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": tokens_in, "candidatesTokenCount": tokens_out,
                              "totalTokenCount": tokens_in + tokens_out}}


def fake_translate(text: str, language: str) -> str:
    for english, other in PHRASES.get(language, []):
        text = text.replace(english, other)
    return text


def check_request(path: str, headers: dict, body: dict, api_key: str | None) -> tuple[str, str]:
    """(version, model) of a request the real API would take; raises Refused as the real API would."""
    m = _PATH.match(path.split("?")[0])
    if not m:
        raise Refused(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")
    version, model = m[1], m[2]
    key = headers.get("x-goog-api-key")
    if not key:
        raise Refused(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without "
                                                "established identity). Please use API Key or other form of API "
                                                "consumer identity to call this API.")
    if api_key is not None and key != api_key:
        raise Refused(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
    config = body.get("generationConfig") or {}
    known = (FIELDS | CONFIG_FIELDS) - (NOT_IN_V1 if version == "v1" else set())
    unknown = [f"generation_config.{k}" if k in CONFIG_FIELDS else k for k in [*body, *config] if k not in known
               and k != "generationConfig"]
    if unknown:
        raise Refused(400, "INVALID_ARGUMENT", " ".join(f'Invalid JSON payload received. Unknown name "{name}": '
                                                        f"Cannot find field." for name in unknown))
    if model not in MODELS:
        raise Refused(404, "NOT_FOUND", f"models/{model} is not found for API version {version}, or is not "
                                        "supported for generateContent. Call ListModels to see the list of "
                                        "available models and their supported methods.")
    _check_thinking(model, config.get("thinkingConfig") or {})
    return version, model


def _check_thinking(model: str, thinking: dict) -> None:
    # proto3 JSON: either spelling of a field name (the SDK sends thinking_level, thinkingBudget)
    level = thinking.get("thinkingLevel", thinking.get("thinking_level"))
    budget = thinking.get("thinkingBudget", thinking.get("thinking_budget"))
    if level is not None and budget is not None:
        raise Refused(400, "INVALID_ARGUMENT", "You can only set one of thinking budget and thinking level.")
    levels = MODELS[model]
    if level is not None and levels is None:
        raise Refused(400, "INVALID_ARGUMENT", "Thinking level is not supported for this model.")
    if level is not None and str(level).upper() not in levels:
        raise Refused(400, "INVALID_ARGUMENT", f"Thinking level {str(level).upper()} is not supported by {model}. "
                                               f"Supported levels: {', '.join(levels)}.")
    if budget == 0 and model == "gemini-2.5-pro":
        raise Refused(400, "INVALID_ARGUMENT", "Budget 0 is invalid. This model only works in thinking mode.")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many customers' calls arrive at once


class FakeGemini:
    def __init__(self, slow_seconds: float = 10.0, api_key: str | None = None):
        self.requests: list[dict] = []
        self.readings: dict[str, dict] = {}
        self.default_reading = dict(DEFAULT_READING)
        self.mode: str | int | None = None
        self.latency = 0.0
        self.api_key = api_key  # None: any key is taken (but one must be sent)
        self._queue: list = []
        self.slow_seconds = slow_seconds
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    # -- control --------------------------------------------------------------------------------
    def start(self) -> FakeGemini:
        fake = self

        class Handler(BaseHTTPRequestHandler):  # HTTP/1.0: a stopped fake refuses every connection at once
            def log_message(self, *args):
                pass

            def do_POST(self):
                fake._handle(self)

        self._stopping.clear()
        self.server = _Server(("127.0.0.1", self.port), Handler)
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
            self.latency = 0.0
            self.max_in_flight = self.in_flight
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
        return [r for r in self.requests if r.get("answered") and "customer_message" in self.document(r)]

    def translations_asked(self) -> list[dict]:
        return [r for r in self.requests if r.get("answered") and "texts" in self.document(r)]

    def most_at_once(self) -> int:
        """The most of the recorded requests (since the last reset) that were being answered at once."""
        now = time.monotonic()
        events = sorted([(r["started"], 1) for r in self.requests] + [(r.get("ended", now), -1) for r in self.requests])
        most = running = 0
        for _, change in events:
            running += change
            most = max(most, running)
        return most

    def messages_asked(self) -> list[str]:
        return [self.document(r)["customer_message"] for r in self.readings_asked()]

    # -- answering ----------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers.get("Content-Length", 0))) or b"{}")
        request = {"path": h.path, "headers": {k.lower(): v for k, v in h.headers.items()}, "body": body,
                   "started": time.monotonic()}
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            try:
                check_request(h.path, request["headers"], body, self.api_key)
            except Refused as refused:
                request["refused"] = refused.payload["error"]["message"]
                return self._send(h, refused.code, refused.payload)
            request["answered"] = True
            with self._lock:
                what = self._queue.pop(0) if self._queue else self.mode
            self._answer_with(h, request, what)
        finally:
            with self._lock:
                self.in_flight -= 1
            request["ended"] = time.monotonic()

    def _answer_with(self, h, request: dict, what) -> None:
        if what == "slow":
            self._stopping.wait(self.slow_seconds)
            what = None
        elif self.latency:
            self._stopping.wait(self.latency)
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
        if "customer_message" not in doc:  # a health check's ping
            return {"ok": True}
        reading = dict(self.readings.get(doc["customer_message"], self.default_reading))
        if doc.get("reply_to_translate") and reading.get("language", "en") != "en":
            reading["reply_texts"] = [fake_translate(t, reading["language"]) for t in doc["reply_to_translate"]]
        return reading

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
