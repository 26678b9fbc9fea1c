"""python -m bot: the commands a shop runs, as subprocesses (what a person at a terminal sees)."""
import json
import subprocess
import sys

from tests.conftest import ROOT


def run(*args, env=None, stdin=None):
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env={**base, **(env or {})},
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_parse_prints_the_nlu_result_as_json():
    res = run("parse", "2 kg of apples and a dozen eggs")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["intent"] == "add_items"
    assert [(i["sku"], i["quantity"]) for i in out["items"]] == [("APPLE", 2), ("EGGS", 12)]


def test_load_catalog_reports_bad_rows_with_line_numbers_and_imports_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,unit,price,stock\nKIWI,Kiwi,each,0.50,10\nFIG,Fig,each,abc,5\nPLUM,Plum,crate,1.00,5\n")
    res = run("load-catalog", str(bad))
    assert res.returncode == 1
    assert "line 3 (FIG)" in res.stderr and "line 4 (PLUM)" in res.stderr and "Nothing was imported" in res.stderr


def test_load_catalog_imports_a_good_file(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"sku": "KIWI", "name": "Kiwi", "unit": "each", "price": "0.50", "stock": 10}]))
    res = run("load-catalog", str(good))
    assert res.returncode == 0, res.stderr
    assert "imported 1 products" in res.stdout and "1 new" in res.stdout


def test_a_bad_setting_stops_start_up_naming_it():
    res = run("worker", env={"REDIS_URL": "http://nope", "MONGO_URI": "mongodb://x"})
    assert res.returncode == 2 and "REDIS_URL must be a" in res.stderr
    res = run("worker", env={"REDIS_URL": "redis://127.0.0.1:1/0", "MONGO_URI": "mongodb://x"})
    assert res.returncode == 2 and "API_TOKEN must be set" in res.stderr


def test_a_bad_shop_file_stops_start_up_naming_the_field(tmp_path):
    shop = tmp_path / "shop.yaml"
    shop.write_text("delivery:\n  fee: four ninety-nine\n")
    res = run("dev", env={"SHOP_FILE": str(shop)})
    assert res.returncode == 2 and "delivery.fee: must be an amount like 4.99" in res.stderr
    shop.write_text("payment:\n  methods: [online]\n")
    res = run("dev", env={"SHOP_FILE": str(shop)})
    assert res.returncode == 2 and "needs the STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET settings" in res.stderr
    res = run("dev", env={"STRIPE_SECRET_KEY": "sk_test_abcdefghij"})
    assert res.returncode == 2 and "set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET" in res.stderr


def test_production_commands_refuse_the_embedded_default():
    res = run("worker")
    assert res.returncode == 2 and "use 'python -m bot dev'" in res.stderr


def test_console_chat_goes_through_the_queue_and_shows_the_texted_code():
    res = run("chat", stdin="hi\n+1 415 555 2671\n")
    assert res.returncode == 0, res.stderr
    assert "To find your account" in res.stdout and "I've sent a 6-digit code" in res.stdout
    assert "(SMS to +14155552671: Orderline Grocery: your code is" in res.stdout


def test_replace_removes_products_missing_from_the_file(store):
    from bot.shop.catalog import Product

    store.products.upsert_many([Product("A", "Apple", "each", 10, 1), Product("B", "Bean", "each", 10, 1)])
    assert store.products.delete_except(["A"]) == 1 and [p.sku for p in store.products.all()] == ["A"]
