"""The redactor on a corpus of real-format fake secrets and benign look-alikes."""

from __future__ import annotations

import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from incident.redact import redact, redact_counts, redact_json
from redaction_corpus import B64, PROSE, URLSAFE, benign, rnd, secrets, shape_formats, token_formats
from redaction_lookalikes import lookalikes


def _leaks(secret: str, out: str) -> bool:
    """Does any 8-character window of the secret survive in the output?"""
    w = min(8, len(secret))
    return any(secret[i : i + w] in out for i in range(len(secret) - w + 1))


def test_corpus_has_zero_leaks_and_labels_each_kind():
    cases = list(secrets())
    assert len(cases) > 700
    leaked = [(kind, text) for kind, text, s in cases if _leaks(s, redact(text)[0])]
    assert leaked == []
    mislabelled = [(kind, redact(text)[0]) for kind, text, _ in cases if f"[REDACTED:{kind}]" not in redact(text)[0]]
    assert mislabelled == []


def test_benign_look_alikes_pass_unchanged():
    lines = benign()
    changed = [line for line in lines if redact(line) != (line, 0)]
    assert changed == []
    assert len(lines) > 300


def test_look_alikes_from_documented_formats_pass_unchanged():
    # Git shas, UUIDs, trace ids, pod names, Stripe object ids, S3/CloudFront request ids,
    # digests, Relay ids, cursors, versions, private addresses, weak key names with plain values.
    lines = list(lookalikes())
    changed = [(family, line, redact(line)[0]) for family, line in lines if redact(line) != (line, 0)]
    assert changed == []
    assert len(lines) >= 480 and len({f for f, _ in lines}) >= 40


def test_keys_without_a_name_or_prefix_are_caught_by_shape_in_any_alphabet():
    rng = random.Random(17)
    for _ in range(40):
        for kind, key in shape_formats(rng):
            out, counts = redact_counts(f"2026-11-21T14:33:01Z ERROR checkout {key} rejected")
            assert counts.get(kind, 0) >= 1 and key.split(":")[-1].split(".")[-1] not in out, (key, out)


def test_weak_key_names_redact_only_values_shaped_like_credentials():
    rng = random.Random(2)
    secret = rnd(rng, URLSAFE, 20) + "9"
    for line in (f"FERNET_KEY={secret}", f"license_key: {secret}", f"session={secret}; theme=dark",
                 f"GET /app;jsessionid={secret}?page=2", f"connect.sid={secret}", f"PHPSESSID={secret.lower()}",
                 f'{{"auth": "{secret}"}}', f"sid={secret}", f"salt={secret}"):
        out, n = redact(line)
        assert n == 1 and secret not in out and secret.lower() not in out, line
    for line in ("cache key=user:42 miss", "routing_key=orders.created", "session: closed by peer", "sid=3",
                 "ORACLE_SID=ORCL", "auth: failed for user 42", "pass=3 fail=0", "key: checkout", "bypass=true",
                 f"idempotency_key={rnd(rng, '0123456789abcdef', 8)}-1111-2222-3333-{rnd(rng, '0123456789abcdef', 12)}",
                 f"Sec-WebSocket-Key: {rnd(rng, B64, 22)}==", f"public_key={secret}"):
        assert redact(line) == (line, 0), line
    assert redact("DB_PASS=hunter2hunter2 dbPass=hunter3hunter3")[0] == "DB_PASS=[REDACTED:password] dbPass=[REDACTED:password]"


def test_url_passwords_keep_their_host_and_ports_are_not_passwords():
    for url, pw in (("mysql://root:p@ss@word@db.internal:3306/app", "p@ss@word"),
                    ("postgres://app:ab/cd#ef@db/app?x=a@b", "ab/cd#ef"), ("redis://:s3cr3t@cache:6379", "s3cr3t")):
        out, n = redact(f"dsn={url} opened")
        assert n == 1 and pw not in out and ("@db" in out or "@cache" in out), out
    for url in ("http://10.0.0.7:8080/healthz/@status", "https://mastodon.social:443/@oncall",
                "ssh://git@github.com:22/org/repo.git"):
        assert redact(url) == (url, 0)


def test_base64_is_told_apart_by_what_it_encodes():
    import base64

    def enc(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    for data in ("gid://shop/Product/1234567890", '{"id": 12345, "ts": 1700000000}', "order created for tenant"):
        line = f"next={enc(data)} ok"
        assert redact(line) == (line, 0)
    for secret in ("deploy:Xk29fjQ0pL", "postgres://app:Xk29fjQ0pL@db/app", "password=Xk29fjQ0pLmn"):
        out, counts = redact_counts(f"upstream sent {enc(secret)} ok")
        assert counts == {"encoded_secret": 1} and enc(secret) not in out


def test_false_positive_rate_is_measured_on_prose():
    # Prose with a key word and a colon is redacted on purpose (a leak is worse than a false
    # positive); the figure is pinned so a change in either direction is seen.
    redacted = [line for line in PROSE if redact(line)[1]]
    assert len(redacted) == len(PROSE)
    assert redact("reset password: sent to user 42")[0].startswith("reset password: [REDACTED:password]")


def test_counts_by_kind():
    rng = random.Random(3)
    gh = "ghp_" + rnd(rng, "abcdefABCDEF0123456789", 36)
    text = f"Authorization: Bearer {rnd(rng, 'abcdef0123', 40)}\ntoken={gh}\npassword=hunter22 x\n{gh}"
    out, counts = redact_counts(text)
    assert counts == {"authorization": 1, "github_token": 2, "password": 1}
    assert redact(text) == (out, 4)
    assert "Authorization: Bearer [REDACTED:authorization]" in out
    assert "token=[REDACTED:github_token]" in out


def test_keeps_structure_around_values():
    assert redact('{"user": "bob", "password": "a b c", "n": 1}')[0] == (
        '{"user": "bob", "password": "[REDACTED:password]", "n": 1}'
    )
    assert redact("postgres://app:s3cret-pw@db:5432/x")[0] == "postgres://app:[REDACTED:url_password]@db:5432/x"
    assert redact("db:\n  password: correct horse battery  # rotated\n  host: db")[0] == (
        "db:\n  password: [REDACTED:password]  # rotated\n  host: db"
    )
    # A line cut by a size cap inside a quoted value: the rest of the line is the value.
    assert redact('{"user": "bob", "password": "hunter2 and more')[0] == '{"user": "bob", "password": [REDACTED:password]'
    assert redact("GET /cb?code=1&access_token=abcd1234efgh&state=z")[0] == (
        "GET /cb?code=1&access_token=[REDACTED:token]&state=z"
    )


def test_pem_block_with_timestamped_lines_is_redacted_whole():
    rng = random.Random(5)
    body = [rnd(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 64) for _ in range(4)]
    dashes = "-" * 5
    lines = [f"{dashes}BEGIN PRIVATE KEY{dashes}", *body, f"{dashes}END PRIVATE KEY{dashes}"]
    log = "\n".join(f"2026-11-21T14:33:0{i}Z app: {line}" for i, line in enumerate(lines)) + "\nnext line"
    out, n = redact(log)
    assert n == 1 and out.endswith("[REDACTED:private_key]\nnext line")
    assert not any(b in out for b in body)


def test_key_material_without_any_name_is_caught_by_shape_not_paths_or_images():
    rng = random.Random(12)
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    line = rnd(rng, b64, 64)
    assert redact(f"2026-11-21T14:33:01Z app: {line}") == ("2026-11-21T14:33:01Z app: [REDACTED:high_entropy]", 1)
    for benign_line in (
        "data:image/png;base64," + rnd(rng, b64, 200),
        "integrity=sha384-" + rnd(rng, b64, 64),
        "/srv/app/com/example/payments/internal/RetryPolicyHandler2/Config",
        "PaymentServiceClientRetryPolicyHandlerFactory2024Impl",
        "commit " + rnd(rng, "0123456789abcdef", 40),
    ):
        assert redact(benign_line) == (benign_line, 0)


def test_redact_json_redacts_values_under_secret_keys_and_strings_everywhere():
    rng = random.Random(9)
    key = "AIza" + rnd(rng, "abcdefghijABCDEFGHIJ0123456789_-", 35)
    doc = {
        "headers": {"Authorization": "Bearer xyz", "Accept": "json"},
        "db": {"password": 12345, "host": "db"},
        "token_count": 42,
        "accessToken": "opaque",
        "clientSecret": None,
        "items": [{"note": f"used {key}"}, {"api_key": ""}],
        "password_reset_requested": True,
    }
    out, n = redact_json(doc)
    assert out == {
        "headers": {"Authorization": "[REDACTED:authorization]", "Accept": "json"},
        "db": {"password": "[REDACTED:password]", "host": "db"},
        "token_count": 42,
        "accessToken": "[REDACTED:token]",
        "clientSecret": None,
        "items": [{"note": "used [REDACTED:google_api_key]"}, {"api_key": ""}],
        "password_reset_requested": True,
    }
    assert n == 4
    assert doc["db"]["password"] == 12345  # the input is not mutated
    weak = {"key": "cart:42", "session": 3, "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "bypass": "yes",
            "auth": "ZGVwbG95OnMzY3JldA==", "DB_PASS": "x", "sessionId": "9f2c4e1a7b3d4c5e"}
    out, n = redact_json(weak)
    assert out == {**weak, "auth": "[REDACTED:auth]", "DB_PASS": "[REDACTED:password]", "sessionId": "[REDACTED:session]"}
    assert n == 3


def test_ten_megabytes_in_well_under_two_seconds():
    rng = random.Random(1)
    lines = []
    for i in range(60_000):
        lines.append(
            f"2026-11-21T14:{i % 60:02d}:00Z INFO checkout-7d9f8b6c4-x2x9k request_id={rnd(rng, '0123456789abcdef', 32)}"
            f' path=/api/v1/cart/{i} status=200 token_count={i} msg="served the cart page for a user" dur=12ms'
        )
        if i % 1000 == 0:
            lines.append(f"ERROR auth failed password=hunter{i} Authorization: Bearer {rnd(rng, 'abcdef0123', 40)}")
    text = "\n".join(lines)
    text = text * (10_000_000 // len(text) + 1)
    assert len(text) >= 10_000_000
    # CPU time of this process: other jobs on a shared machine must not fail the test.
    t = time.process_time()
    out, n = redact(text)
    elapsed = time.process_time() - t
    assert n == 2 * text.count("ERROR auth failed")
    assert "hunter1000" not in out
    assert elapsed < 2.0, f"redacting {len(text) / 1e6:.1f} MB took {elapsed:.2f}s"


def test_hostile_inputs_stay_linear():
    # Each BEGIN line used to search 20,000 characters ahead for its END: 1.3 MB took 8 s (now 0.5 s).
    rng = random.Random(4)
    for text in ("-----BEGIN RSA PRIVATE KEY-----\nhello world\n" * 30_000,
                 "\n".join(rnd(rng, B64, 64) + ("\n-----END RSA PRIVATE KEY-----" if i % 2 else "") for i in range(15_000)),
                 "password=" * 150_000, "a://b:c@d " * 100_000, "\\n" * 500_000):
        t = time.process_time()
        redact(text)
        assert time.process_time() - t < 2.0


_WORDS = st.sampled_from(
    ["INFO", "error", "user=42", "token_count=3", "GET /api", "pod-7d9f8b6c4-x2x9k", "\n", " ", ":", "=", '"', "ok",
     "password", "token", "Bearer", "sk-", "eyJ", "://", "-----BEGIN", "-----END RSA PRIVATE KEY-----", "AKIA",
     "[REDACTED:x]", "{", "}", "\\n", "key=", "session=", "MIIEvQIBADAN", "Ab3dEf5hIj7lMn9pQr1tUv==", "@"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_WORDS, max_size=30), st.integers(0, 10**6), st.sampled_from([" ", "\n", "=", ": ", '"', "'", ","]))
def test_a_known_format_token_never_survives_any_surroundings(words, seed, sep):
    rng = random.Random(seed)
    kind, tok = rng.choice(token_formats(rng))
    at = rng.randint(0, len(words))
    text = "".join(words[:at]) + sep + tok + sep + "".join(words[at:])
    out, n = redact(text)
    assert tok not in out and n >= 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.lists(_WORDS, max_size=40).map("".join))
def test_redaction_is_idempotent_and_never_raises(text):
    once, _ = redact(text)
    twice, n = redact(once)
    assert twice == once
    assert n == 0
