"""Stock is taken exactly once for any interleaving of two `place()` calls with one key.

Two real threads run `Orders.place` with the same key; a checkpoint hook (called before every
store operation) parks each thread until the test lets it take one more step. Every pair of
points (A stopped after i operations, B after j, then either finishes first) is run, plus random
full interleavings, crashes at every point followed by the retried job, and a caller that stalls
past the moves' retention window. After each: one order, both callers report the same outcome,
and the shelves moved once (placed) or not at all (refused).
"""
from __future__ import annotations

import random
import threading

import mongomock
import pytest

from bot.shop.catalog import Product
from bot.store import Store, Terms
from bot.store.moves import PUT_RETAIN, TAKE_RETAIN
from bot.store.orders import order_id_for

KEY = "whatsapp:SMrace"
LINES = (("EGGS", 12), ("MILK", 2))
SLOT = {"id": "2027-01-12T13:00", "start": 1799784000.0, "end": 1799791200.0, "label": "Today 1 PM–3 PM"}


class Crash(BaseException):
    """A worker dying mid-placement (BaseException: nothing on the way may swallow it)."""


class Lockstep:
    """Runs callables on threads that advance one store operation at a time, on command."""

    def __init__(self, store):
        self.store = store
        self.threads, self.go, self.parked, self.done, self.result = {}, {}, {}, {}, {}
        self.trace: list[tuple[str, str]] = []
        store.products.moves.checkpoint = store.slots.moves.checkpoint = self._checkpoint

    def _checkpoint(self, point: str) -> None:
        name = threading.current_thread().name
        if name not in self.go:
            return  # the test's own thread (setup, checks)
        self.trace.append((name, point))
        self.parked[name].release()
        self.go[name].acquire()

    def start(self, name: str, fn) -> None:
        self.go[name], self.parked[name], self.done[name] = threading.Semaphore(0), threading.Semaphore(0), False

        def body():
            try:
                self.result[name] = fn()
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                self.result[name] = exc
            finally:
                self.done[name] = True
                self.parked[name].release()

        t = threading.Thread(target=body, name=name, daemon=True)
        self.threads[name] = t
        t.start()
        assert self.parked[name].acquire(timeout=10), f"{name} never reached the store"

    def step(self, name: str, n: int = 1) -> None:
        """Let `name` perform `n` more store operations (or finish)."""
        for _ in range(n):
            if self.done[name]:
                return
            self.go[name].release()
            assert self.parked[name].acquire(timeout=10), f"{name} is stuck"

    def finish(self, name: str) -> object:
        while not self.done[name]:
            self.step(name)
        self.threads[name].join(10)
        return self.result[name]


@pytest.fixture
def shop():
    store = Store(mongomock.MongoClient()["stock_once"])
    store.ensure_indexes()
    return store


def stock(store, eggs: int, milk: int) -> None:
    store.products.upsert_many([Product("EGGS", "Large eggs", "each", 35, eggs),
                                Product("MILK", "Whole milk", "l", 129, milk)])
    store.products.update("EGGS", stock=eggs)
    store.products.update("MILK", stock=milk)


def place(store, key=KEY, capacity=None):
    terms = Terms(slot=SLOT, slot_capacity=capacity) if capacity is not None else None
    return lambda: store.orders.place(key=key, phone="+14155550100", customer=None, lines=LINES,
                                      address="1 Main St", channel="whatsapp", currency="USD", terms=terms)


def quiet(store) -> None:
    store.products.moves.checkpoint = store.slots.moves.checkpoint = lambda point: None


def booked(store) -> int:
    return store.slots.booked([SLOT["id"]]).get(SLOT["id"], 0)


def solo_points(eggs: int, milk: int, capacity=None, prebooked=0) -> int:
    """How many store operations one call performs alone (the points a race can cut in at)."""
    store = Store(mongomock.MongoClient()["stock_once_solo"])
    fresh(store, eggs, milk, prebooked)
    run = Lockstep(store)
    run.start("A", place(store, capacity=capacity))
    run.finish("A")
    return len(run.trace)


def assert_once(store, results, eggs: int, milk: int, capacity=None, prebooked=0) -> None:
    orders = store.orders.find({"key": KEY}, limit=0)
    assert len(orders) == 1
    order = orders[0]
    assert all(not isinstance(r, BaseException) for r in results), results
    assert {r.ok for r in results} == {order["status"] == "confirmed"}  # both callers tell the same story
    left = (store.products.stock("EGGS"), store.products.stock("MILK"))
    if order["status"] == "confirmed":
        assert left == (eggs - 12, milk - 2), f"placed, but the shelves hold {left}"
    else:
        assert order["status"] == "failed" and left == (eggs, milk), f"refused, but the shelves hold {left}"
    for sku in ("EGGS", "MILK"):  # one entry per key on each product: the proof a later call finds
        doc = store.products.col.find_one({"sku": sku})
        assert [m["k"] for m in doc["moves"]].count(KEY) == 1
    if capacity is not None:  # the slot: booked once if placed, not at all if refused, never past capacity
        assert booked(store) == prebooked + (order["status"] == "confirmed") <= capacity
    again = place(store, capacity=capacity)()  # the job retried once more, after everything: nothing moves
    assert again.ok == (order["status"] == "confirmed")
    assert (store.products.stock("EGGS"), store.products.stock("MILK")) == left


# (eggs, milk, slot capacity or None, places in the slot already taken by other orders)
CASES = {"in stock": (30, 10, None, 0), "milk short": (30, 1, None, 0), "with a slot": (30, 10, 2, 1),
         "slot full": (30, 10, 1, 1)}


def fresh(store, eggs, milk, prebooked) -> None:
    store.orders.col.delete_many({})
    store.products.col.delete_many({})
    store.slots.col.delete_many({})
    stock(store, eggs, milk)
    for n in range(prebooked):
        store.slots.book(SLOT, 99, f"other:{n}", 1.0)


@pytest.mark.parametrize("case", CASES)
def test_every_pair_of_interleaving_points_takes_stock_once(shop, case):
    eggs, milk, capacity, prebooked = CASES[case]
    n = solo_points(eggs, milk, capacity, prebooked)
    assert n >= 6, n  # insert, insert:write, a take per line (or the slot), decide, read, settle...
    runs = 0
    for i in range(n + 1):
        for j in range(n + 1):
            for b_first in (False, True):
                fresh(shop, eggs, milk, prebooked)
                run = Lockstep(shop)
                run.start("A", place(shop, capacity=capacity))
                run.step("A", i)
                run.start("B", place(shop, capacity=capacity))
                run.step("B", j)
                order = ("B", "A") if b_first else ("A", "B")
                results = [run.finish(order[0]), run.finish(order[1])]
                quiet(shop)
                assert_once(shop, results, eggs, milk, capacity, prebooked)
                runs += 1
    assert runs == 2 * (n + 1) ** 2


@pytest.mark.parametrize("case", CASES)
def test_random_full_interleavings_take_stock_once(shop, case):
    eggs, milk, capacity, prebooked = CASES[case]
    for seed in range(150):
        rng = random.Random(seed)
        fresh(shop, eggs, milk, prebooked)
        run = Lockstep(shop)
        run.start("A", place(shop, capacity=capacity))
        run.start("B", place(shop, capacity=capacity))
        while not (run.done["A"] and run.done["B"]):
            live = [t for t in ("A", "B") if not run.done[t]]
            run.step(rng.choice(live))
        results = [run.finish("A"), run.finish("B")]
        quiet(shop)
        assert_once(shop, results, eggs, milk, capacity, prebooked)


@pytest.mark.parametrize("case", CASES)
def test_a_crash_at_any_point_then_the_retried_job_places_once(shop, case):
    eggs, milk, capacity, prebooked = CASES[case]
    n = solo_points(eggs, milk, capacity, prebooked)
    for crash_at in range(n):
        fresh(shop, eggs, milk, prebooked)
        seen = []

        def dies(point, crash_at=crash_at, seen=seen):
            seen.append(point)
            if len(seen) == crash_at + 1:
                raise Crash(point)

        shop.products.moves.checkpoint = shop.slots.moves.checkpoint = dies
        with pytest.raises(Crash):
            place(shop, capacity=capacity)()
        quiet(shop)
        retried = place(shop, capacity=capacity)()  # the job runs again on another worker
        assert_once(shop, [retried], eggs, milk, capacity, prebooked)


def test_a_crash_then_two_retries_racing_still_take_once(shop):
    for crash_at in range(solo_points(30, 10)):
        shop.orders.col.delete_many({})
        shop.products.col.delete_many({})
        stock(shop, 30, 10)
        seen = []
        shop.products.moves.checkpoint = lambda p, c=crash_at, seen=seen: seen.append(p) or (len(seen) > c and _raise(p))
        with pytest.raises(Crash):
            place(shop)()
        run = Lockstep(shop)
        run.start("A", place(shop))
        run.start("B", place(shop))
        for k in range(40):
            run.step("AB"[k % 2])
        results = [run.finish("A"), run.finish("B")]
        quiet(shop)
        assert_once(shop, results, 30, 10)


def _raise(point):
    raise Crash(point)


def test_a_caller_stalled_past_the_retention_window_is_fenced_off(shop):
    """A stalls just before its first take; B places the order; a day later the product's settled
    entries are compacted away. When A wakes, its take is refused by the fence, not applied."""
    stock(shop, 30, 10)
    run = Lockstep(shop)
    run.start("A", place(shop))
    while run.trace[-1][1] != "take":
        run.step("A")
    b = place(shop)()
    assert b.ok and shop.products.stock("EGGS") == 18
    created = shop.orders.get(order_id_for(KEY))["created_at"]
    shop.products.compact(["EGGS", "MILK"], created + TAKE_RETAIN + 60)
    assert shop.products.col.find_one({"sku": "EGGS"})["moves"] == []  # the proof is gone...
    a = run.finish("A")
    shop.products.moves.checkpoint = lambda point: None
    assert a.ok  # ...but the fence refused A's take and A reports the placed order
    assert (shop.products.stock("EGGS"), shop.products.stock("MILK")) == (18, 8)


def test_a_placement_retried_after_the_window_is_refused_as_stale(shop):
    """Nothing was taken yet and the window passed: the order is refused and nothing moves."""
    stock(shop, 30, 10)
    shop.products.col.update_many({}, {"$set": {"fence": 4e9}})  # every key older than 2096 is fenced
    result = place(shop)()
    assert not result.ok and result.reason == "stale" and result.short == []
    assert (shop.products.stock("EGGS"), shop.products.stock("MILK")) == (30, 10)


def test_a_restock_retried_long_after_is_refused_by_its_fence_not_applied_twice(shop):
    """A cancellation's restock done, its entry compacted a day later: a stalled second restock
    for the same cancellation is refused, not applied."""
    stock(shop, 30, 10)
    order = place(shop)().order
    assert shop.orders.cancel(order["_id"]) and shop.products.stock("EGGS") == 30
    cancelled = shop.orders.get(order["_id"])
    shop.products.compact(["EGGS", "MILK"], cancelled["cancelled_at"] + PUT_RETAIN + 60)
    assert not shop.products.put("EGGS", 12, "cancel:" + order["_id"], cancelled["cancelled_at"])
    assert shop.products.stock("EGGS") == 30


def test_two_cancellations_racing_put_the_stock_back_once(shop):
    stock(shop, 30, 10)
    order = place(shop)().order
    for i in range(6):
        for j in range(6):
            shop.orders.col.update_one({"_id": order["_id"]}, {"$set": {"status": "confirmed"},
                                                               "$unset": {"restocked": "", "cancelled_at": ""}})
            shop.products.update("EGGS", stock=18)
            shop.products.update("MILK", stock=8)
            shop.products.col.update_many({}, {"$pull": {"moves": {"k": {"$regex": "^cancel:"}}}})
            run = Lockstep(shop)
            run.start("A", lambda: shop.orders.cancel(order["_id"]))
            run.step("A", i)
            run.start("B", lambda: shop.orders.cancel(order["_id"]))
            run.step("B", j)
            results = [run.finish("A"), run.finish("B")]
            shop.products.moves.checkpoint = lambda point: None
            assert True in results
            assert (shop.products.stock("EGGS"), shop.products.stock("MILK")) == (30, 10), (i, j)
