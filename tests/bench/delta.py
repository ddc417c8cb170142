#!/usr/bin/env python3
"""What one measured run cost: the difference between two samples taken by run.sh around it.

Usage: delta.py BEFORE_DIR AFTER_DIR REQUESTS POLICY
  each DIR holds  cmdstats  (redis-cli INFO commandstats of the bench's private Redis)
                  cpu       (redis-cli INFO cpu)
                  metrics   (the gateway's Prometheus text from the admin listener's /metrics; may be empty)
  REQUESTS        the load generator's response count for the run (the per-request denominator)
  POLICY          the rate-limit policy of the run's route, or "-" for none

Prints one "name value" line per figure (values never contain spaces):
  rcmd      Redis commands per request (all commands, those run inside Lua scripts included)
  rscript   script calls (EVAL/EVALSHA/FCALL and their _RO forms) per request
  rmix      the commands by frequency, per request, e.g. evalsha=0.0040,zadd=0.0040 ("-" when none)
  rcpu_s    Redis CPU seconds (used_cpu_user + used_cpu_sys)
  rcpu_us   Redis CPU microseconds per request
  alloc     bytes the gateway allocated per request (dotnet_gc_heap_total_allocated_bytes_total; "NA" if absent)
  s2xx s429 s403 s499 sother  answers the gateway counted by status (http_server_request_duration_seconds_count)
  codes     the "other" statuses as code:count,... ("-" when none)
  bans      bans issued by the gateway (mdv_gateway_bans_issued_total, every origin and level)
  strikes   strikes counted (mdv_gateway_bans_strikes_total)
  blocked   requests refused because of a ban (mdv_gateway_bans_blocked_total)
  rdec      admissions decided by Redis for POLICY per request
            (mdv_gateway_ratelimit_decisions_total{policy=POLICY,outcome="allowed",source="redis"})
  rbatch    mean requests per rate-limit call (mdv_gateway_redis_batch_size sum / count)
  rres      permits reserved ahead minus those given back, per request (mdv_gateway_ratelimit_reserved_permits_total)
  rpercall  requests per rate-limit call to Redis (REQUESTS / the batch-size histogram's count)
"""
import re
import sys

SCRIPT_COMMANDS = {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"}
# name, labels (quoted values may hold braces: http_route="/plain/{**rest}"), value
SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)')
LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def cmdstats(text):
    calls = {}
    for line in text.splitlines():
        m = re.match(r"^cmdstat_([^:]+):calls=(\d+)", line.strip())
        if m:
            calls[m.group(1)] = int(m.group(2))
    return calls


def redis_cpu(text):
    values = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        if key in ("used_cpu_user", "used_cpu_sys"):
            values[key] = float(value)
    return values.get("used_cpu_user", 0.0) + values.get("used_cpu_sys", 0.0), bool(values)


def metrics(text):
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        samples.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), value))
    return samples


def total(samples, name, **want):
    found, t = False, 0.0
    for n, labels, v in samples:
        if n == name and all(labels.get(k) == w for k, w in want.items()):
            found, t = True, t + v
    return t, found


def statuses(samples):
    by = {}
    for n, labels, v in samples:
        if n == "http_server_request_duration_seconds_count":
            code = labels.get("http_response_status_code", "?")
            by[code] = by.get(code, 0.0) + v
    return by


def main():
    before, after, requests, policy = sys.argv[1:5]
    n = float(requests) if requests not in ("", "NA") else 0.0
    per = (lambda x: x / n) if n > 0 else (lambda x: 0.0)
    out = []

    c0, c1 = cmdstats(read(f"{before}/cmdstats")), cmdstats(read(f"{after}/cmdstats"))
    delta = {c: c1[c] - c0.get(c, 0) for c in c1 if c1[c] - c0.get(c, 0) > 0}
    scripts = sum(v for c, v in delta.items() if c in SCRIPT_COMMANDS)
    mix = ",".join(f"{c}={per(v):.4f}" for c, v in sorted(delta.items(), key=lambda kv: -kv[1]) if n and v / n >= 0.0001)
    out += [("rcmd", f"{per(sum(delta.values())):.3f}"), ("rscript", f"{per(scripts):.3f}"), ("rmix", mix or "-")]

    (u0, ok0), (u1, ok1) = redis_cpu(read(f"{before}/cpu")), redis_cpu(read(f"{after}/cpu"))
    rcpu = max(u1 - u0, 0.0) if ok0 and ok1 else 0.0
    out += [("rcpu_s", f"{rcpu:.4f}"), ("rcpu_us", f"{per(rcpu) * 1e6:.2f}")]

    m0, m1 = metrics(read(f"{before}/metrics")), metrics(read(f"{after}/metrics"))
    a0, found0 = total(m0, "dotnet_gc_heap_total_allocated_bytes_total")
    a1, found1 = total(m1, "dotnet_gc_heap_total_allocated_bytes_total")
    out.append(("alloc", f"{per(a1 - a0):.0f}" if found0 and found1 else "NA"))

    s0, s1 = statuses(m0), statuses(m1)
    d = {code: s1[code] - s0.get(code, 0.0) for code in s1 if s1[code] - s0.get(code, 0.0) > 0}
    s2xx = sum(v for code, v in d.items() if code.startswith("2"))
    others = {code: v for code, v in d.items() if not code.startswith("2") and code not in ("429", "403", "499")}
    out += [("s2xx", f"{s2xx:.0f}"), ("s429", f"{d.get('429', 0):.0f}"), ("s403", f"{d.get('403', 0):.0f}"),
            ("s499", f"{d.get('499', 0):.0f}"), ("sother", f"{sum(others.values()):.0f}"),
            ("codes", ",".join(f"{c}:{v:.0f}" for c, v in sorted(others.items())) or "-")]

    for key, name in (("bans", "mdv_gateway_bans_issued_total"), ("strikes", "mdv_gateway_bans_strikes_total"),
                      ("blocked", "mdv_gateway_bans_blocked_total")):
        out.append((key, f"{total(m1, name)[0] - total(m0, name)[0]:.0f}"))

    if policy != "-":
        dec = (total(m1, "mdv_gateway_ratelimit_decisions_total", policy=policy, outcome="allowed", source="redis")[0]
               - total(m0, "mdv_gateway_ratelimit_decisions_total", policy=policy, outcome="allowed", source="redis")[0])
    else:
        dec = 0.0
    bs = total(m1, "mdv_gateway_redis_batch_size_sum")[0] - total(m0, "mdv_gateway_redis_batch_size_sum")[0]
    bc = total(m1, "mdv_gateway_redis_batch_size_count")[0] - total(m0, "mdv_gateway_redis_batch_size_count")[0]

    def reserved(samples):
        t = 0.0
        for name, labels, v in samples:
            if name == "mdv_gateway_ratelimit_reserved_permits_total":
                t += -v if labels.get("event") == "returned" else v
        return t

    out += [("rdec", f"{per(dec):.3f}"), ("rbatch", f"{bs / bc:.2f}" if bc else "0"),
            ("rres", f"{per(reserved(m1) - reserved(m0)):.3f}"), ("rpercall", f"{n / bc:.1f}" if bc else "0")]

    sys.stdout.write("".join(f"{k} {v}\n" for k, v in out))


if __name__ == "__main__":
    main()
