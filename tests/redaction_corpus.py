"""A corpus for the redactor: real-format fake secrets in many contexts, and benign look-alikes.

Every secret is built at run time from a prefix and random characters, so no file in the repo
holds anything a secret scanner would flag. `secrets()` yields (kind, context line, the secret's
sensitive part); `benign()` yields lines that must come out unchanged.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Iterator

UPPER_DIGITS = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
PW_CHARS = ALNUM + "!#%^*-_+.~"


def rnd(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": rnd(rng, HEX, 12), "iat": rng.randint(1, 2**31)}).encode())
    return f"{header}.{payload}.{rnd(rng, URLSAFE, 43)}"


def pem_body(rng: random.Random, lines: int = 8) -> list[str]:
    return [rnd(rng, B64, 64) for _ in range(lines)] + [rnd(rng, B64, 20) + "=="]


def pem(rng: random.Random, label: str = "RSA PRIVATE KEY") -> tuple[str, list[str]]:
    body = pem_body(rng)
    dashes = "-" * 5
    return "\n".join([f"{dashes}BEGIN {label}{dashes}", *body, f"{dashes}END {label}{dashes}"]), body


def password(rng: random.Random, n: int = 14) -> str:
    # Starts with a letter: a value opening with `-` reads as a flag, and `$`/`<` as placeholders.
    return rng.choice(string.ascii_letters) + rnd(rng, PW_CHARS, n - 1)


def token_formats(rng: random.Random) -> list[tuple[str, str]]:
    """(kind, token) in every known format the redactor must catch without any key name nearby."""
    return [
        ("anthropic_key", "sk-ant-api03-" + rnd(rng, URLSAFE, 93) + "AA"),
        ("anthropic_key", "sk-ant-admin01-" + rnd(rng, URLSAFE, 80)),
        ("openai_key", "sk-" + rnd(rng, ALNUM, 48)),
        ("openai_key", "sk-proj-" + rnd(rng, URLSAFE, 156)),
        ("openai_key", "sk-svcacct-" + rnd(rng, URLSAFE, 120)),
        ("aws_access_key_id", "AKIA" + rnd(rng, UPPER_DIGITS, 16)),
        ("aws_access_key_id", "ASIA" + rnd(rng, UPPER_DIGITS, 16)),
        *[("github_token", p + rnd(rng, ALNUM, 36)) for p in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")],
        ("github_token", "github_pat_" + rnd(rng, ALNUM, 22) + "_" + rnd(rng, ALNUM, 59)),
        ("gitlab_token", "glpat-" + rnd(rng, URLSAFE, 20)),
        ("slack_token", "xoxb-" + rnd(rng, string.digits, 12) + "-" + rnd(rng, string.digits, 13) + "-" + rnd(rng, ALNUM, 24)),
        ("slack_token", "xoxp-" + rnd(rng, string.digits, 12) + "-" + rnd(rng, string.digits, 12) + "-" + rnd(rng, HEX, 32)),
        ("slack_token", "xapp-1-" + rnd(rng, UPPER_DIGITS, 11) + "-" + rnd(rng, string.digits, 13) + "-" + rnd(rng, HEX, 64)),
        ("stripe_key", "sk_live_" + rnd(rng, ALNUM, 24)),
        ("stripe_key", "rk_live_" + rnd(rng, ALNUM, 24)),
        ("stripe_key", "sk_test_" + rnd(rng, ALNUM, 24)),
        ("stripe_key", "whsec_" + rnd(rng, ALNUM, 32)),
        ("google_api_key", "AIza" + rnd(rng, URLSAFE, 35)),
        ("google_oauth", "ya29." + rnd(rng, URLSAFE, 120)),
        ("npm_token", "npm_" + rnd(rng, ALNUM, 36)),
        ("huggingface_token", "hf_" + rnd(rng, ALNUM, 34)),
        ("jwt", jwt(rng)),
        ("slack_token", "xoxe.xoxp-1-" + rnd(rng, ALNUM, 140)),
        ("slack_token", "xoxe-1-" + rnd(rng, ALNUM, 140)),
        ("vault_token", "hvs." + rnd(rng, URLSAFE, 90)),
        ("openshift_token", "sha256~" + rnd(rng, URLSAFE, 43)),
        ("docker_token", "dckr_pat_" + rnd(rng, URLSAFE, 27)),
        ("digitalocean_token", "dop_v1_" + rnd(rng, HEX, 64)),
        ("shopify_token", "shpat_" + rnd(rng, HEX, 32)),
        ("grafana_token", "glsa_" + rnd(rng, ALNUM, 32) + "_" + rnd(rng, HEX, 8)),
        ("sentry_token", "sntryu_" + rnd(rng, HEX, 64)),
        ("databricks_token", "dapi" + rnd(rng, HEX, 32)),
        ("age_secret_key", "AGE-SECRET-KEY-1" + rnd(rng, UPPER_DIGITS, 58)),
        ("square_token", "sq0atp-" + rnd(rng, URLSAFE, 22)),
        ("postman_token", "PMAK-" + rnd(rng, HEX, 24) + "-" + rnd(rng, HEX, 34)),
        ("pulumi_token", "pul-" + rnd(rng, HEX, 40)),
        ("doppler_token", "dp.st.prd." + rnd(rng, ALNUM, 40)),
        ("newrelic_key", "NRAK-" + rnd(rng, UPPER_DIGITS, 27)),
        ("mailgun_key", "key-" + rnd(rng, HEX, 32)),
        ("fernet_token", "gAAAAAB" + _b64url(rng.randbytes(120))),
    ]


def shape_formats(rng: random.Random) -> list[tuple[str, str]]:
    """(kind, key) with no prefix a rule could know: caught by shape alone (`high_entropy`)."""
    return [
        ("high_entropy", base64.urlsafe_b64encode(rng.randbytes(32)).decode()),  # a Fernet key
        ("high_entropy", rnd(rng, URLSAFE, 43)),  # an unnamed vendor's base64url key
        ("high_entropy", "lin_api_" + rnd(rng, ALNUM, 40)),
        ("high_entropy", "HRKU-AA" + rnd(rng, URLSAFE, 58)),
        ("high_entropy", "1//0" + rnd(rng, URLSAFE, 99)),
        ("high_entropy", rnd(rng, B64, 40)),  # an AWS secret access key
        ("high_entropy", base64.b64encode(rng.randbytes(64)).decode()),  # an Azure storage key
        ("high_entropy", base64.b64encode(rng.randbytes(16)).decode()),  # 24 characters, padded
        ("high_entropy", f"{rng.randint(10**8, 10**9)}:AA" + rnd(rng, URLSAFE, 33)),  # a Telegram bot token
        ("high_entropy", _b64url(rng.randbytes(18)) + "." + rnd(rng, URLSAFE, 38)),  # a JWT's last segments
    ]


SHAPE_CONTEXTS = [
    "{t}",
    "2026-11-21T14:33:01Z ERROR upstream rejected {t} (401)",
    '{{"level":"error","msg":"loaded {t}","attempt":3}}',
    "export SOME_VAR={t}",
    "value '{t}' rejected",
]


TOKEN_CONTEXTS = [
    "{t}",
    "2026-11-21T14:33:01Z ERROR upstream rejected credential {t} (401)",
    'level=error msg="auth failed" key={t} user_id=42',
    '{{"level":"error","msg":"call failed","cred":"{t}","attempt":3}}',
    "export SOME_VAR={t}",
    "https://api.example.com/v1/things?key={t}&page=2",
    "Traceback: ValueError('bad credential {t}')",
    "\t- name: x\n\t  value: '{t}'",
    "[{t}]",
]

# (kind, template) pairs with a key name; {s} is the secret.
KEYED_CONTEXTS = [
    ("password", "db_password={s} host=db.internal"),
    ("password", "DB_PASSWORD={s}"),
    ("password", "PGPASSWORD={s} psql -h db"),
    ("password", 'level=warn msg="login" password="{s}" user=bob'),
    ("password", '{{"user": "bob", "password": "{s}", "ok": false}}'),
    ("password", "{{'user': 'bob', 'passwd': '{s}'}}"),
    ("password", "pwd={s}"),
    ("password", "Server=db;User Id=sa;Password={s};Encrypt=true"),
    ("password", "--password {s}"),
    ("password", "<password>{s}</password>"),
    ("password", "spring.datasource.password = {s}"),
    ("password", "  passphrase: {s}"),
    ("token", "access_token={s}&expires_in=3600"),
    ("token", "refreshToken: {s}"),
    ("token", '"auth_token":"{s}"'),
    ("token", "X-Auth-Token: {s}"),
    ("token", "GITHUB_TOKEN={s}"),
    ("secret", "client_secret={s}"),
    ("secret", '"clientSecret": "{s}"'),
    ("secret", "SECRET={s}"),
    ("secret", "app.secret: {s}"),
    ("api_key", "api_key={s}"),
    ("api_key", "apikey: {s}"),
    ("api_key", "x-api-key: {s}"),
    ("api_key", '"apiKey": "{s}"'),
    ("access_key", "access_key={s}"),
    ("aws_secret_key", "aws_secret_access_key = {s}"),
    ("aws_secret_key", "AWS_SECRET_ACCESS_KEY={s}"),
    ("aws_secret_key", '"SecretAccessKey": "{s}"'),
    ("private_key", "private_key={s}"),
    ("signature", "https://bucket.s3.amazonaws.com/o?X-Amz-Signature={s}&X-Amz-Date=1"),
    ("signature", "https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&se=2026-11-22&sp=r&sig={s}"),
    ("password", "DB_PASS={s}"),
    ("password", "db_pass: {s}"),
    ("password", "jdbc:postgresql://db:5432/app?user=app&password={s}&ssl=true"),
    ("password", "password: '{s}'"),
    ("token", "GET /download?token={s}&expires=1700000000 200"),
    ("token", "  token: {s}"),
    ("api_key", 'level=info msg="calling" api_key={s} attempt=1'),
    ("secret", "vault write auth/approle/login role_id=app secret_id={s}"),
    ("secret_key", "secret_key_base: {s}"),
    ("account_key", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={s};EndpointSuffix=core.windows.net"),
    ("access_key", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={s}"),
    ("key", "FERNET_KEY={s}"),
    ("key", "license_key: {s}"),
    ("key", "https://maps.example.com/api?key={s}&q=cafe"),
    ("session", '10.0.0.7 - - [21/Nov/2026:14:33:01 +0000] "GET /cart HTTP/1.1" 200 512 "-" "Mozilla/5.0" "session={s}; _ga=GA1.2.3"'),
    ("session", '10.0.0.7 - - [21/Nov/2026:14:33:01 +0000] "GET /app;jsessionid={s}?x=1 HTTP/1.1" 200 51'),
    ("session", "PHPSESSID={s}"),
    ("session", '{{"session_id": "{s}", "path": "/cart"}}'),
    ("session", "connect.sid={s}; Path=/"),
    ("session", "sid={s}"),
]

MULTIWORD_CONTEXTS = [
    "  password: {s}",
    "password: {s}  # rotated monthly",
    'password = "{s}"',
    "db:\n  password: {s}\n  host: db",
]


def secrets(seed: int = 7) -> Iterator[tuple[str, str, str]]:
    """(kind, text, sensitive part) for every seeded secret."""
    rng = random.Random(seed)
    for ctx in TOKEN_CONTEXTS:
        for kind, tok in token_formats(rng):
            yield kind, ctx.format(t=tok), tok
    for ctx in SHAPE_CONTEXTS:
        for kind, tok in shape_formats(rng):
            # A JWT's segments are each secret (`.` may separate them); a bot token's id is not.
            for part in tok.split(":")[-1].split("."):
                yield kind, ctx.format(t=tok), part
    for kind, ctx in KEYED_CONTEXTS:
        for _ in range(3):
            s = password(rng) if kind == "password" else rnd(rng, ALNUM, 40)
            yield kind, ctx.format(s=s), s
    for ctx in MULTIWORD_CONTEXTS:
        phrase = " ".join(rnd(rng, string.ascii_lowercase, rng.randint(4, 8)) for _ in range(4))
        yield "password", ctx.format(s=phrase), phrase
    # Secrets whose kind is the key's but whose value has a known format too.
    yield "anthropic_key", "ANTHROPIC_API_KEY=sk-ant-api03-" + (t := rnd(rng, URLSAFE, 95)), t
    # The secret key beside its access key id, as in a downloaded credentials CSV.
    akid, sk = "AKIA" + rnd(rng, UPPER_DIGITS, 16), rnd(rng, B64, 40)
    yield "aws_secret_key", f"{akid},{sk}", sk
    # Authorization headers in every shape.
    for shape in ("Authorization: Bearer {s}", "authorization: Basic {s}", '"Authorization": "token {s}"',
                  "Proxy-Authorization: Bearer {s}", "curl -H 'Authorization: Bearer {s}' https://x",
                  "headers={{'Authorization': 'Bearer {s}', 'Host': 'x'}}", "Cookie: session={s}; theme=dark",
                  "Set-Cookie: sid={s}; Path=/; HttpOnly", "Authorization: {s}"):
        s = base64.b64encode(f"bob:{password(rng)}".encode()).decode() if "Basic" in shape else rnd(rng, URLSAFE, 40)
        yield "authorization", shape.format(s=s), s
    yield "bearer_token", "requests.get(url, headers=auth) # Bearer " + (s := rnd(rng, URLSAFE, 40)), s
    # URL credentials.
    for url in ("postgres://svc:{s}@db.internal:5432/app", "https://deploy:{s}@git.example.com/org/repo.git",
                "redis://:{s}@cache:6379/0", "amqp://guest:{s}@mq.internal//", "mongodb+srv://app:{s}@c0.mongo.net/db"):
        s = rnd(rng, ALNUM + "-_.~", 18)
        yield "url_password", f"connecting to {url.format(s=s)} ...", s
    yield "password", "curl -u admin:" + (s := password(rng)) + " https://x", s
    # Passwords nobody percent-encoded: an `@` or a `/` inside.
    for url in ("mysql://root:{s}@db.internal:3306/app", "postgres://app:{s}@db/app?sslmode=require&x=a@b"):
        for s in (password(rng, 6) + "@" + password(rng, 8), password(rng, 6) + "/" + password(rng, 8)):
            for piece in s.replace("/", "@").split("@"):
                yield "url_password", f"dsn={url.format(s=s)} opened", piece
    # Basic credentials base64-encoded with no header or key name: `Ym9i…` decodes to `bob:…`.
    basic = base64.b64encode(f"deploy:{password(rng, 16)}".encode()).decode()
    yield "encoded_secret", f"upstream sent {basic} and was refused", basic
    # Slack webhooks.
    path = f"T{rnd(rng, UPPER_DIGITS, 8)}/B{rnd(rng, UPPER_DIGITS, 8)}/{rnd(rng, ALNUM, 24)}"
    yield "slack_webhook", f"posting to https://hooks.slack.com/services/{path}", path
    # PEM private keys: plain, in a JSON string with escaped newlines, in YAML, truncated.
    for label in ("RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY",
                  "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK"):
        block, body = pem(rng, label)
        for line in body:
            yield "private_key", f"loaded key:\n{block}\ndone", line
        escaped = json.dumps({"private_key": block})
        yield "private_key", escaped, body[0]
    block, body = pem(rng)
    truncated = block.split("\n")[:6]
    for line in body[:5]:
        yield "private_key", "\n".join(truncated) + "\n[truncated: 40 more lines]", line
    # Key material with no header or key name nearby: a PEM body logged one line per record,
    # a bare AWS secret key, a Kubernetes Secret's base64 data.
    for line in pem_body(rng, 6)[:6]:
        yield "high_entropy", f"2026-11-21T14:33:01Z ERROR checkout {line}", line
    for _ in range(5):
        s = rnd(rng, B64, 40)
        yield "high_entropy", f"creds loaded: {s}", s
    k8s = base64.b64encode(rng.randbytes(48)).decode()
    yield "key", f"data:\n  tls.key: {k8s}", k8s
    yaml_body = pem_body(rng, 4)
    yaml_block = "tls:\n  private_key: |\n" + "\n".join("    " + b for b in yaml_body) + "\n  cert: x"
    for line in yaml_body:
        yield "private_key", yaml_block, line


def benign(seed: int = 11) -> list[str]:
    """Lines that look a little like secrets and must pass through unchanged."""
    rng = random.Random(seed)
    out = []
    for _ in range(20):
        out += [
            f"trace_id={rnd(rng, HEX, 32)} span_id={rnd(rng, HEX, 16)} sampled=1",
            f"commit {rnd(rng, HEX, 40)} deployed (short {rnd(rng, HEX, 7)})",
            f"request_id={uuid.UUID(int=rng.getrandbits(128))} status=200",
            f"pod checkout-{rnd(rng, HEX, 9)}-{rnd(rng, string.ascii_lowercase + string.digits, 5)} ready",
            f"pod sk-worker-{rnd(rng, HEX, 9)}-{rnd(rng, string.ascii_lowercase + string.digits, 5)} OOMKilled",
            f"req_{rnd(rng, UPPER_DIGITS, 26)} POST /v1/orders 201",
            f'<img src="data:image/png;base64,{base64.b64encode(rng.randbytes(600)).decode()}">',
            f"GET /static/main.{rnd(rng, HEX, 8)}.js?v={rnd(rng, HEX, 20)} 200",
            f"pulled image registry.example.com/app@sha256:{rnd(rng, HEX, 64)}",
            f'<script integrity="sha384-{base64.b64encode(rng.randbytes(48)).decode()}"></script>',
            f"token_count={rng.randint(1, 9000)} max_tokens=4096 tokens_used={rng.randint(1, 500)}",
            f"event=password_reset_requested user_id={rng.randint(1, 10**6)}",
            f'{{"event":"password_changed","user":{rng.randint(1, 999)},"token_expired":true}}',
            f"ETag: \"{rnd(rng, HEX, 32)}\"",
            f"x-request-id: {uuid.UUID(int=rng.getrandbits(128))}",
            f"sha256sum {rnd(rng, HEX, 64)}  release.tar.gz",
        ]
    out += [
        "at com.example.auth.TokenService.validate(TokenService.java:42)",
        "at com.example.auth.PasswordEncoder.matches(PasswordEncoder.java:88)",
        'File "/app/auth/token.py", line 42, in refresh',
        "level=warn msg=\"authorization failed\" user_id=42",
        "invalid token signature for user 42",
        "POST /v1/tokens/refresh 200 12ms",
        "GET /api/forgot-password 302",
        "password: ********",
        "password=[REDACTED]",
        '"password": null',
        "api_key: ${API_KEY}",
        "token: {{ .Values.token }}",
        "secretName: db-credentials",
        'secret "db-creds" not found in namespace payments',
        "Secret/default-token-x2x9k created",
        "received SIGTERM: shutting down",
        "Bearer realm=\"api\", error=\"invalid_token\"",
        "Authorization header missing",
        "WWW-Authenticate: Basic realm=\"admin\"",
        "connecting to https://user@git.example.com/org/repo.git",
        "ssh git@github.com:org/repo.git",
        "http://localhost:8080/healthz ok",
        "mailto:oncall@example.com paged",
        "PWD=/home/deploy/app",
        "bypass_cache=true compass=north",
        "Tokenizer loaded in 12ms",
        "2026-11-21T14:33:01.123+00:00 INFO started in 1.2s",
        "10.0.0.7 - - [21/Nov/2026:14:33:01 +0000] \"GET /api/v1/cart HTTP/1.1\" 500 123",
        "kube: deployment.apps/checkout rolled back to revision 41",
        "sig=1 token=42",
        "jwt verification failed: eyJ is not a token",
        "AKIA prefix marks long-term keys; ASIA temporary ones",
        "git checkout -b fix/token-refresh",
        "ghp_ tokens are classic PATs",
        "loading com/example/payments/internal/RetryPolicyHandler2 from /Users/JohnSmith/Documents2024/ProjectFiles",
        "GET /api/v1/orders/12345/items/67890/shipments/ABC123/labels 200",
        "at org.springframework.web.servlet.FrameworkServlet.processRequestInternalHandlerAdapter2",
        "PaymentServiceClientRetryPolicyHandlerFactory2024Impl initialised",
        "s3://company-backups/2026/11/21/checkout/db-snapshot-0001.tar.gz uploaded",
        "ImagePullBackOff: registry.example.com/team/checkout-service:v2.14.3-rc1",
    ]
    return out


# Prose where a key word is followed by a colon: the redactor errs towards redacting these, and
# the corpus test counts them as the false positives it reports.
PROSE = [
    "auth error: invalid token: expired",
    "error loading credentials: file not found",
    "password: incorrect for user bob",
    "reset password: sent to user 42",
    "Authorization: denied by policy",
    "secret: rotated at 14:02",
]
