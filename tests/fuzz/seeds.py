#!/usr/bin/env python3
"""Write the seed corpora of tests/fuzz (corpus/<target>/seed-*), all
taken from what the test suite already feeds the code: the golden
protocol frames (tests/unit/proto_golden.txt), the JSON texts written in
the unit tests, the draft-07 JSON Schema Test Suite (Debian package
json-schema-test-suite), the RFC 6902 cases of test_patch.c, tokens
signed with test_jwt.c's key, the example config files in deploy/ and
the bridge's routes (eventflow-bridge --list-routes) with the bodies the
integration tests send. Inputs found by fuzzing (crash-*, regress-*) are
kept beside the seeds and never touched here.

usage: tests/fuzz/seeds.py [BUILD_DIR]   (BUILD_DIR/bin/eventflow-bridge
       lists the routes; default build)
"""
import base64
import glob
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SUITE = "/usr/share/json-schema-test-suite/tests/draft7"
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")


def write(target, items):
    """Replace corpus/<target>/seed-* with items (bytes), one file each,
    named by content so that a rerun changes nothing."""
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for old in glob.glob(os.path.join(d, "seed-*")):
        os.remove(old)
    seen = set()
    for data in items:
        h = hashlib.sha1(data).hexdigest()[:16]
        if h in seen:
            continue
        seen.add(h)
        with open(os.path.join(d, "seed-" + h), "wb") as f:
            f.write(data)
    print("%-8s %4d seeds" % (target, len(seen)))


ESC = {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "\\": b"\\",
       "'": b"'", "0": b"\0", "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v",
       "?": b"?"}


def c_string(lit):
    """The bytes of one C string literal's body (escapes decoded)."""
    out, i = bytearray(), 0
    raw = lit.encode()
    while i < len(raw):
        c = raw[i:i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        e = chr(raw[i + 1])
        if e == "x":
            m = re.match(rb"[0-9a-fA-F]+", raw[i + 2:])
            out.append(int(m.group(0), 16) & 255)
            i += 2 + len(m.group(0))
        elif e in "01234567":
            m = re.match(rb"[0-7]{1,3}", raw[i + 1:])
            out.append(int(m.group(0), 8) & 255)
            i += 1 + len(m.group(0))
        else:
            out += ESC.get(e, e.encode())
            i += 2
    return bytes(out)


LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def literals(path):
    """Every string literal of a C file, adjacent ones joined."""
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"^\s*#\s*include.*$", "", text, flags=re.M)
    out, last_end, cur = [], None, None
    for m in LIT.finditer(text):
        if cur is not None and text[last_end:m.start()].strip() == "":
            cur += c_string(m.group(1))
        else:
            if cur is not None:
                out.append(cur)
            cur = c_string(m.group(1))
        last_end = m.end()
    if cur is not None:
        out.append(cur)
    return out


def calls(path, name):
    """The literal arguments of each call name(...) in a C file: a list
    per call, None for an argument that is not a literal."""
    text = open(path, encoding="utf-8").read()
    out = []
    for m in re.finditer(r"\b%s \(" % re.escape(name), text):
        i, depth, args, cur = m.end(), 1, [], ""
        while depth:
            c = text[i]
            if c == '"':
                e = LIT.match(text, i)
                cur += text[i:e.end()]
                i = e.end()
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            if depth == 1 and c == ",":
                args.append(cur)
                cur = ""
            elif depth:
                cur += c
            i += 1
        args.append(cur)
        vals = []
        for a in args:
            a = a.strip()
            lits = LIT.findall(a)
            if lits and LIT.sub("", a).strip() == "":
                vals.append(b"".join(c_string(x) for x in lits))
            else:
                vals.append(None)
        out.append(vals)
    return out


def unit(name):
    return os.path.join(ROOT, "tests", "unit", name)


def jsonish(b):
    s = b.strip()
    return len(s) > 0 and s[:1] in b'{["-0123456789tfn'


def suite_cases():
    """(schema text, [instance texts]) of every draft-07 suite group."""
    for path in sorted(glob.glob(os.path.join(SUITE, "*.json"))):
        for group in json.load(open(path, encoding="utf-8")):
            schema = json.dumps(group["schema"]).encode()
            yield schema, [json.dumps(t["data"]).encode()
                           for t in group["tests"]]


def golden():
    frames = {}
    for line in open(unit("proto_golden.txt")):
        name, hexbytes = line.split()
        frames[name] = bytes.fromhex(hexbytes)
    return frames


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


JWT_KEY = bytes(range(1, 33))  # test_jwt.c's s_key
JWT_HEADERS = [b'{"alg":"HS256","typ":"at+jwt"}',
               b'{"alg":"HS256","typ":"at+jwt","kid":"7"}',
               b'{"alg":"none","typ":"at+jwt"}',
               b'{"alg":"HS256","typ":"JWT"}',
               b'{"alg":"HS256","typ":"at+jwt","alg":"none"}']
JWT_PAYLOAD = (b'{"sub":"0190f1a2-7b3c-7def-8123-456789abcdef","org":"42",'
               b'"role":"producer","fam":"fam-0001","aud":"eventflow",'
               b'"iat":1700000000,"exp":1700000900%s}')
JWT_EXTRAS = [b"", b',"nbf":1700000000', b',"aud":["x","eventflow"]',
              b',"sub":"twice"', b',"exp":1.5', b',"role":"root"']


def jwt_seeds():
    out = []
    for h in JWT_HEADERS:
        for x in JWT_EXTRAS:
            p = JWT_PAYLOAD % x
            # 's': the target signs "header\npayload" itself
            out.append(b"s" + h + b"\n" + p)
            signing = b64(h) + b"." + b64(p)
            sig = hmac.new(JWT_KEY, signing, hashlib.sha256).digest()
            out.append(b"v" + signing + b"." + b64(sig))
    for lit in literals(unit("test_jwt.c")):
        if lit.count(b".") == 2 and b" " not in lit:
            out.append(b"v" + lit)
        elif jsonish(lit):
            out.append(b"s" + JWT_HEADERS[0] + b"\n" + lit)
    return out


def bridge_seeds():
    """One request per route (method and path with parameters filled),
    with a JSON body for those that take one, as raw HTTP/1.1."""
    exe = os.path.join(BUILD, "bin", "eventflow-bridge")
    routes = subprocess.run([exe, "--list-routes"], capture_output=True,
                            text=True, check=True).stdout.split("\n")
    bodies = [b'{"events":[{"type":"order.created","payload":{"n":1}}]}',
              b'[{"type":"a","payload":{}}]',
              b'{"type":"a","payload":{"sku":"x"},"event_id":'
              b'"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}',
              b'{"name":"orders","schema":{"type":"object"}}',
              b'{"email":"a@b.c","password":"secret-123","org_name":"acme"}',
              b'{"refresh_token":"rt"}', b'{"role":"producer","name":"k1",'
              b'"streams":["orders"],"rate":{"per_second":10,"burst":20}}',
              b'{"consumer_id":"c1","last_event_id":'
              b'"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}',
              b'{"position":"earliest"}', b'{"ids":["x"]}',
              b'{"payload":{"a":1}}', b"{}"]
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "integration",
                                              "*.c"))):
        for lit in literals(path):
            s = lit.strip()
            if s[:1] in (b"{", b"[") and len(s) < 2000:
                try:
                    json.loads(s)
                    bodies.append(s)
                except ValueError:
                    pass
    out, k = [], 0
    for line in routes:
        parts = line.split()
        if len(parts) != 2:
            continue
        method, path = parts
        path = re.sub(r"\{[a-z_]+\+?\}", "orders", path)
        head = ("%s %s?limit=10&where=/a:eq:1 HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\nX-API-Key: efk_test\r\n"
                "X-Request-Id: req-1\r\n" % (method, path)).encode()
        if method in ("POST", "PUT", "PATCH"):
            for body in bodies[k % len(bodies):][:3]:
                out.append(head + b"Content-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(body) + body)
            k += 1
        else:
            out.append(head + b"\r\n")
    return out


def main():
    frames = golden()
    write("proto", [v for k, v in frames.items()])
    write("jsonmp", [v for k, v in frames.items()
                     if not k.startswith("req.")] +
          [frames[k] for k in sorted(frames) if k.startswith("req.")][::4])

    texts = []
    for f in ("test_json.c", "test_event_json.c", "test_validator.c",
              "test_event_rules.c", "test_proto_check.c"):
        texts += [lit for lit in literals(unit(f)) if jsonish(lit)]
    docs = []
    for schema, instances in suite_cases():
        docs.append(schema)
        docs += instances
    write("json", texts + docs[::7])

    schemas = []
    for schema, instances in suite_cases():
        for inst in instances:
            schemas.append(schema + b"\0" + inst)
    for lit in literals(unit("test_schema.c")):
        if jsonish(lit):
            schemas.append(lit)
    write("schema", schemas)

    patches = []
    for args in calls(unit("test_patch.c"), "s_expect") + \
            calls(unit("test_patch.c"), "s_expect_fail"):
        if len(args) >= 2 and args[0] is not None and args[1] is not None:
            patches.append(args[1] + b"\0" + args[0])
    for args in calls(unit("test_patch.c"), "s_expect_invalid"):
        if args and args[0] is not None:
            patches.append(args[0] + b"\0{}")
    write("patch", patches)

    write("jwt", jwt_seeds())

    configs = []
    for name in ("eventflow-broker.conf.example",
                 "eventflow-bridge.conf.example"):
        text = open(os.path.join(ROOT, "deploy", name), "rb").read()
        configs.append(text)
        # every option set: the commented defaults uncommented
        configs.append(re.sub(rb"(?m)^# ?([a-z0-9-]+ = )", rb"\1", text))
    configs.append(b"listen = 8080\0--cors-origins\0https://a.example, "
                   b"http://localhost:3000\0--threads=16")
    configs.append(b"# nothing\n\0--config\0/nonexistent")
    write("config", configs)

    write("bridge", bridge_seeds())


main()
