"""`python -m bot serve | worker | dev | chat | parse TEXT | load-catalog FILE | telegram set-webhook |
doctor | healthcheck worker`.

Each command checks settings first and exits with a message naming what is wrong (status 2); an
unreachable Redis or MongoDB is one line naming the setting and the host (status 3).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from typing import TYPE_CHECKING

from bot.common.logs import configure
from bot.config import Settings, SettingsError, load_settings
from bot.connections import ServiceUnreachable, check_mongo, check_services
from bot.shop.rules_source import ShopFileError, load_rules

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from channels.dev_sms import DevOutboxSender

LOOPBACK = ("127.", "localhost", "::1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Orderline: ordering bot for shops")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="the web app under gunicorn (production; needs REDIS_URL and MONGO_URI)")
    w = sub.add_parser("worker", help="an RQ worker (production; needs REDIS_URL and MONGO_URI)")
    w.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    w.add_argument("--no-scheduler", action="store_true", help="don't run RQ's scheduler in this worker")
    d = sub.add_parser("dev", help="web + worker in one process; embedded default when no services are set")
    d.add_argument("--port", type=int, default=None)
    d.add_argument("--host", default=None, help="address to listen on (default HOST, else 127.0.0.1); "
                   "0.0.0.0 reaches it from outside a VM or container")
    c = sub.add_parser("chat", help="talk to Orderline in this terminal, through the queue and worker")
    c.add_argument("--user", default=None, help="who you are (default: a new user)")
    c.add_argument("--phone", default=None, help="act as a channel that vouches for this E.164 phone")
    p = sub.add_parser("parse", help="print what the offline parser understands, as JSON")
    p.add_argument("text", nargs="+")
    p.add_argument("--state", default="order")
    p.add_argument("--step", default=None, help="the state's step, e.g. name or address in register")
    lc = sub.add_parser("load-catalog", help="import products from CSV or JSON, upserting by sku")
    lc.add_argument("file")
    lc.add_argument("--replace", action="store_true", help="also remove products that are not in FILE")
    tg = sub.add_parser("telegram", help="Telegram bot set-up")
    tg_sub = tg.add_subparsers(dest="telegram_command", required=True)
    tg_sub.add_parser("set-webhook", help="register PUBLIC_BASE_URL/webhooks/telegram with its secret")
    sub.add_parser("doctor", help="check settings, Redis (replicas, Sentinel), MongoDB (replica set), channels, "
                                  "the Gemini key and model")
    hc = sub.add_parser("healthcheck", help="exit 0 if this host's worker is registered with RQ (container health)")
    hc.add_argument("what", choices=["worker"])
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
        if args.command not in ("parse", "load-catalog", "telegram"):
            load_rules(settings)  # the shop file, checked like the settings
    except (SettingsError, ShopFileError) as exc:
        print(f"orderline: {exc}", file=sys.stderr)
        return 2
    quiet = ("chat", "parse", "load-catalog", "telegram", "doctor", "healthcheck")
    configure("WARNING" if args.command in quiet else settings.LOG_LEVEL, settings.LOG_FORMAT)
    try:
        return COMMANDS[args.command](settings, args)
    except ServiceUnreachable as exc:
        print(f"orderline: {exc}", file=sys.stderr)
        return 3


def _needs_services(settings: Settings, command: str) -> bool:
    if settings.embedded:
        print(f"orderline: '{command}' needs REDIS_URL and MONGO_URI (several processes must share them); "
              "use 'python -m bot dev' for the embedded default", file=sys.stderr)
        return False
    return True


def cmd_serve(settings: Settings, args) -> int:
    if not _needs_services(settings, "serve"):
        return 2
    check_services(settings)  # one line now, rather than a traceback from every gunicorn worker
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    host = settings.HOST or "0.0.0.0"  # a container's port; HOST=127.0.0.1 behind a proxy on the same host
    os.execvp("gunicorn", ["gunicorn", "--bind", f"{_bracket(host)}:{settings.PORT}", "--workers", workers,
                           "--threads", "8", "--timeout", "30", "--access-logfile", "-",
                           "--logger-class", "bot.web.access_log.MaskedAccessLogger", "bot.wsgi:app"])


def cmd_worker(settings: Settings, args) -> int:
    if not _needs_services(settings, "worker"):
        return 2
    from bot.runtime import build
    from workers.run import run_worker

    return 0 if run_worker(build(settings), burst=args.burst, with_scheduler=not args.no_scheduler) else 1


def cmd_dev(settings: Settings, args) -> int:
    from werkzeug.serving import make_server

    from bot.app import create_app
    from bot.runtime import build
    from workers.run import InProcessWorker

    port = args.port if args.port is not None else settings.PORT  # 0: any free port
    host = args.host or settings.HOST or "127.0.0.1"
    rt = build(settings)
    worker = InProcessWorker(rt).start()
    app = create_app(rt)
    server = make_server(host, port, app, threaded=True)
    base = f"http://{_bracket(_reachable_name(host))}:{server.server_port}"
    mode = "embedded default (fakeredis + mongomock, sample catalog)" if settings.embedded else "your Redis and MongoDB"
    token = _shown(settings, "API_TOKEN", "$API_TOKEN")
    body = '{"user_id": "me", "message": "hi", "phone": "+14155552671"}'
    print(f"""
Orderline is running on {mode}.

  Chat in your browser:  {base}/
  Operators' dashboard:  {base}/dashboard  (sign in with the operator token)
  API token:             {_shown(settings, "API_TOKEN")}
  Operator token:        {_shown(settings, "OPERATOR_TOKEN")}
  Try the API:           curl -s {base}/api/chat -H "Authorization: Bearer {token}" \\
                           -H 'Content-Type: application/json' -d '{body}'
  One-time codes (SMS) are printed here as they are sent.  Ctrl-C stops.
""", flush=True)
    if not host.startswith(LOOPBACK):
        print(f"WARNING: listening on {host}:{server.server_port}, beyond this machine. Anyone who can reach it "
              "can chat with the bot and, with the tokens above, read and change the shop's data; nothing is "
              "encrypted (no HTTPS). Use it only on a network you trust; production is `serve` behind HTTPS "
              "(docs/deploy.md).\n", file=sys.stderr, flush=True)
    if settings.embedded:
        threading.Thread(target=_print_outbox, args=(rt,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
    return 0


def _shown(settings: Settings, name: str, otherwise: str = "") -> str:
    """A token `dev` invented is printed (the newcomer needs it); one the environment set never is."""
    if name in settings.generated_tokens:
        return getattr(settings, name)
    return otherwise or f"(yours: from {name}{'S' if not getattr(settings, name) else ''}, not printed)"


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _reachable_name(host: str) -> str:
    """The address to print for a wildcard bind: this machine's outward address (no packet is sent)."""
    if host not in ("0.0.0.0", "::"):
        return host
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the interface a packet would leave by
            return s.getsockname()[0]
    except OSError:
        return socket.gethostname()


def _dev_sms(rt: Runtime) -> DevOutboxSender | None:
    """The embedded default's SMS box, or None with a real SMS sender."""
    from channels.dev_sms import DevOutboxSender

    sms = rt.sender("sms")
    return sms if isinstance(sms, DevOutboxSender) else None


def _print_outbox(rt: Runtime) -> None:
    """Show the embedded default's SMS (one-time codes) on the console as they are 'sent'."""
    box = _dev_sms(rt)
    if box is None:
        return
    seen = box.count()
    while True:
        entries, seen = box.since(seen)
        for entry in entries:
            print(f"[SMS to {entry['to']}] {entry['text']}", flush=True)
        time.sleep(0.3)


def cmd_chat(settings: Settings, args) -> int:
    from bot.pipeline import InboundMessage
    from bot.runtime import build
    from workers.run import InProcessWorker

    rt = build(settings)
    worker = InProcessWorker(rt).start() if settings.embedded else None
    box = _dev_sms(rt)
    seen = box.count() if box else 0
    user = args.user or "console-" + uuid.uuid4().hex[:8]
    print("Orderline chat. Type your messages; Ctrl-D or /quit to leave.\n")
    try:
        while True:
            try:
                line = input("you> ").strip()
            except EOFError:
                break
            if line in ("/quit", "/exit"):
                break
            if not line:
                continue
            message = InboundMessage(channel="console", message_id=uuid.uuid4().hex, address=user, text=line,
                                     contact=args.phone)
            rt.ingress.accept(message)
            reply = rt.ingress.wait_reply(message.message_id, 30)
            if reply is None:
                print("bot> (no answer yet: is a worker running?)")
                continue
            for r in reply["replies"]:
                print("bot> " + r["text"].replace("\n", "\n     "))
            if box is not None:  # show a code 'texted' by this turn, once it has been handed over
                deadline = time.monotonic() + 2
                while rt.outbox.pending() and time.monotonic() < deadline:
                    time.sleep(0.05)
                entries, seen = box.since(seen)
                for entry in entries:
                    print(f"     (SMS to {entry['to']}: {entry['text']})")
    finally:
        if worker:
            worker.stop()
    return 0


def cmd_parse(settings: Settings, args) -> int:
    from bot.nlu import Understanding
    from bot.nlu.types import NluContext
    from bot.shop.catalog import Catalog
    from bot.shop.catalog_import import load_sample_catalog

    if settings.embedded:
        catalog = Catalog(load_sample_catalog())
    else:
        from bot.store import connect

        store = connect(settings)
        check_mongo(settings, store)
        catalog = Catalog(store.products.all())
    nlu = Understanding(settings.MAX_ITEM_QUANTITY, address_check=settings.ADDRESS_CHECK)
    nlu.use_catalog(catalog)
    result = nlu.understand(" ".join(args.text), NluContext(state=args.state, step=args.step,
                                                                max_quantity=settings.MAX_ITEM_QUANTITY))
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    return 0


def cmd_load_catalog(settings: Settings, args) -> int:
    from bot import outreach
    from bot.runtime import build, connect_redis
    from bot.shop.catalog_import import CatalogImportError, read_catalog
    from bot.store import connect
    from bot.store.catalog_cache import announce_change

    try:
        products = read_catalog(args.file)
    except CatalogImportError as exc:
        print(f"orderline: {exc}\nNothing was imported.", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"orderline: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    store, redis = connect(settings), connect_redis(settings)
    check_services(settings, redis, store)
    store.ensure_indexes()
    skus = [p.sku for p in products]
    before = store.products.by_skus(skus)
    inserted, updated = store.products.upsert_many(products)
    removed = store.products.delete_except(skus) if args.replace else 0
    announce_change(redis)
    print(f"imported {len(products)} products from {args.file}: {inserted} new, {updated} updated"
          + (f", {removed} removed" if args.replace else ""))
    back = outreach.restocked(before, store.products.by_skus(skus))
    if back:  # customers waiting for these hear it once each (through the workers, like any message)
        told = outreach.announce_restock(build(settings, redis=redis, store=store, senders={}, load_sample=False), back)
        print(f"back in stock: {len(back)} products; {told} waiting customers told")
    if settings.embedded:
        print("(embedded default: this store lives only in this process; set MONGO_URI to import for real)")
    return 0


def cmd_telegram(settings: Settings, args) -> int:
    """`telegram set-webhook`: tell Telegram where to deliver updates, and the secret to send."""
    from telegram.error import TelegramError

    from channels.telegram import set_webhook

    missing = [n for n in ("TELEGRAM_BOT_TOKEN", "PUBLIC_BASE_URL") if not getattr(settings, n)]
    if missing:
        print(f"orderline: set {' and '.join(missing)} first", file=sys.stderr)
        return 2
    try:
        url = set_webhook(settings)
    except TelegramError as exc:
        print(f"orderline: Telegram refused the webhook: {exc}", file=sys.stderr)
        return 1
    print(f"Telegram will deliver updates to {url} (with the secret header)")
    return 0


def cmd_doctor(settings: Settings, args) -> int:
    from bot.doctor import doctor

    return doctor(settings)


def cmd_healthcheck(settings: Settings, args) -> int:
    from bot.doctor import worker_health

    return worker_health(settings)


COMMANDS = {
    "serve": cmd_serve, "worker": cmd_worker, "dev": cmd_dev, "chat": cmd_chat, "parse": cmd_parse,
    "load-catalog": cmd_load_catalog, "telegram": cmd_telegram, "doctor": cmd_doctor,
    "healthcheck": cmd_healthcheck,
}
