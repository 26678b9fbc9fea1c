"""Issue 11, item by item, tried from outside through the public routes:

test_1_export_erasure  export and erasure select by phone (a shared integrator identity)
test_2_codes           SMS pumping: caps per identity, per number, per hour; countries and number types
test_3_calls           forged caller IDs hear nothing before a code; withheld numbers are no number
test_4_dead_letters    no code in a dead letter; 'delete my data' leaves no trace; cap and retention;
                       a shop without an SMS sender refuses typed numbers at the start
test_5_no_numbers      no full number in key names, dashboard URLs, log lines or gunicorn's access log
test_6_tokens          named integrator and operator tokens, their restrictions, the audit log
test_7_smaller         crafted webhooks, bot dev's banner, the poll URL, SMS wording and opt-outs
"""
