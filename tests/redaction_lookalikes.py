"""Look-alikes: values in logs that resemble secrets and are not, for measuring false positives.

Each family is built from the format its system documents (git, W3C trace context, AWS X-Ray,
Kubernetes, Stripe object ids, S3 and CloudFront headers, Relay/GraphQL ids, ULIDs, nanoids,
semantic versions, private addresses, ...), in the contexts logs put them in. `lookalikes()` yields
(family, line); the redactor should change none of them.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Callable, Iterator

from redaction_corpus import ALNUM, HEX, URLSAFE, rnd

LOWER_DIGITS = string.ascii_lowercase + string.digits
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
K8S_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated names


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _families(rng: random.Random) -> dict[str, Callable[[], str]]:
    sha, short = rnd(rng, HEX, 40), rnd(rng, HEX, 7)
    return {
        "git sha": lambda: f"deploy {rnd(rng, HEX, 40)} ({rnd(rng, HEX, 7)}) by ci; describe v2.14.3-14-g{short}",
        "git log": lambda: f"commit {sha}\nMerge: {short} {rnd(rng, HEX, 7)}",
        "uuid": lambda: f"request_id={_uuid(rng)} tenant={_uuid(rng).upper()} status=200",
        "w3c trace": lambda: f"traceparent: 00-{rnd(rng, HEX, 32)}-{rnd(rng, HEX, 16)}-01",
        "x-ray trace": lambda: f"X-Amzn-Trace-Id: Root=1-{rnd(rng, HEX, 8)}-{rnd(rng, HEX, 24)};Parent={rnd(rng, HEX, 16)};Sampled=1",
        "datadog ids": lambda: f"dd.trace_id={rng.getrandbits(63)} dd.span_id={rng.getrandbits(63)}",
        "k8s pod": lambda: f"pod checkout-{rnd(rng, HEX, 10)}-{rnd(rng, K8S_SUFFIX, 5)} ready in ns payments",
        "k8s event": lambda: (f"Successfully assigned payments/checkout-{rnd(rng, HEX, 9)}-{rnd(rng, K8S_SUFFIX, 5)} "
                              f"to ip-10-0-{rng.randint(0, 255)}-{rng.randint(0, 255)}.ec2.internal"),
        "k8s uid": lambda: f'{{"kind":"Pod","metadata":{{"uid":"{_uuid(rng)}","resourceVersion":"{rng.randint(1, 10**8)}"}}}}',
        "ulid": lambda: f"order {rnd(rng, '0123456789ABCDEFGHJKMNPQRSTVWXYZ', 26)} created",
        "nanoid": lambda: f'reqId="{rnd(rng, URLSAFE, 21)}" ok',
        "stripe ids": lambda: (f"charge ch_{rnd(rng, ALNUM, 24)} for cus_{rnd(rng, ALNUM, 14)} "
                               f"pi_{rnd(rng, ALNUM, 24)} evt_{rnd(rng, ALNUM, 24)}"),
        "elasticsearch _id": lambda: json.dumps({"_index": "logs-2026.11.21", "_id": rnd(rng, URLSAFE, 20), "result": "created"}),
        "s3 request ids": lambda: (f"x-amz-request-id: {rnd(rng, '0123456789ABCDEF', 16)} "
                                   f"x-amz-id-2: {_b64(rng.randbytes(57))}"),
        "cloudfront id": lambda: f"x-amz-cf-id: {base64.urlsafe_b64encode(rng.randbytes(42)).decode()}",
        "content-md5": lambda: f"Content-MD5: {_b64(rng.randbytes(16))}",
        "websocket": lambda: f"Sec-WebSocket-Key: {_b64(rng.randbytes(16))}\nSec-WebSocket-Accept: {_b64(rng.randbytes(20))}",
        "etag": lambda: f'ETag: "{rnd(rng, HEX, 32)}" etag={_b64(rng.randbytes(16))}',
        "sri": lambda: f'<link integrity="sha512-{_b64(rng.randbytes(64))}" crossorigin>',
        "npm lock": lambda: f'"integrity": "sha1-{_b64(rng.randbytes(20))}"',
        "docker digest": lambda: f"Digest: sha256:{rnd(rng, HEX, 64)} pulled",
        "ssh fingerprint": lambda: f"Accepted publickey for deploy: RSA SHA256:{_b64(rng.randbytes(32)).rstrip('=')}",
        "relay id": lambda: f'"id": "{_b64(f"gid://shop/Product/{rng.randint(1, 10**9)}".encode())}"',
        "cursor": lambda: f"next={_b64(json.dumps({'id': rng.randint(1, 10**6), 'ts': rng.randint(1, 2**31)}).encode())}",
        "base64 text": lambda: f'payload="{_b64(rng.choice(["order created for tenant", "retrying the upstream call now", "user logged out cleanly"]).encode())}"',
        "data uri": lambda: f'background: url("data:image/png;base64,{_b64(rng.randbytes(300))}")',
        "cloudformation": lambda: (f"PhysicalResourceId: prod-api-LambdaFunction-{rnd(rng, string.ascii_uppercase + string.digits, 12)} "
                                   f"MyStack-MyBucket-{rnd(rng, string.ascii_uppercase + string.digits, 13)}"),
        "arn": lambda: f"arn:aws:iam::{rng.randint(10**11, 10**12 - 1)}:role/service-role/CheckoutLambdaRole-{rnd(rng, ALNUM, 12)}",
        "ecs task": lambda: f"arn:aws:ecs:eu-west-1:123456789012:task/prod/{rnd(rng, HEX, 32)}",
        "versions": lambda: (f"checkout v{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 99)}-rc.{rng.randint(1, 9)}"
                             f"+build.{rng.randint(10**7, 10**8)}.{rnd(rng, HEX, 7)} on go1.22.3 openjdk 21.0.2+13-LTS "
                             f"kernel 5.15.0-{rng.randint(1000, 1100)}-aws"),
        "private ips": lambda: (f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)} -> "
                                f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.7:8080 via 192.168.{rng.randint(0, 255)}.1 "
                                f"fd00:{rnd(rng, HEX, 4)}::{rnd(rng, HEX, 4)}"),
        "mac and ipv6": lambda: f"eth0 {':'.join(rnd(rng, HEX, 2) for _ in range(6))} fe80::{rnd(rng, HEX, 4)}:{rnd(rng, HEX, 4)}",
        "java objects": lambda: f"[Ljava.lang.String;@{rnd(rng, HEX, 8)} com.example.Cart$$EnhancerBySpringCGLIB$${rnd(rng, HEX, 8)}",
        "mongo ids": lambda: f'{{"_id": {{"$oid": "{rnd(rng, HEX, 24)}"}}, "user": "{rnd(rng, HEX, 24)}"}}',
        "vite assets": lambda: f"GET /assets/index-{rnd(rng, URLSAFE, 8)}.js 200 /assets/vendor.{rnd(rng, HEX, 8)}.css 304",
        "cloud run": lambda: f"revision checkout-{rng.randint(1, 99999):05d}-{rnd(rng, string.ascii_lowercase, 3)} serving 100%",
        "email and paths": lambda: f"mail to oncall+{rnd(rng, string.ascii_lowercase, 6)}@example.com from /var/lib/app/cache/{rnd(rng, HEX, 2)}/{rnd(rng, HEX, 38)}",
        "weak key names": lambda: rng.choice([
            f"cache key=user:{rng.randint(1, 10**6)} miss", f"idempotency_key={_uuid(rng)}", "routing_key=orders.created",
            f"partition key=tenant-{rng.randint(1, 999)}", f"session_count={rng.randint(1, 99)} sessions_active=3",
            "session: closed by peer", f"sid={rng.randint(1, 99)}", "ORACLE_SID=ORCL", "oauth_provider=google",
            "auth: failed for user 42", f"pass={rng.randint(0, 99)} fail=0 skip=1", "key: checkout",
            f'{{"key": "cart:{rng.randint(1, 10**6)}", "ttl": 300}}', "bypass=true compass=north",
            f"sort_key=2026-11-21#{rng.randint(1, 999)}", "public_key_id=key-1",
        ]),
        "durations and sizes": lambda: f"took {rng.randint(1, 999)}ms p99={rng.random():.3f}s size={rng.randint(1, 10**9)}B",
        "urls with ports": lambda: rng.choice([
            f"http://10.0.0.{rng.randint(1, 254)}:8080/healthz/@status", "https://mastodon.social:443/@oncall",
            "ssh://git@github.com:22/org/repo.git", f"https://user@git.example.com:{rng.randint(1000, 9999)}/org/repo",
        ]),
    }


def lookalikes(seed: int = 23, per_family: int = 12) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed)
    for family, make in _families(rng).items():
        for _ in range(per_family):
            yield family, make()
