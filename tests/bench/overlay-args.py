#!/usr/bin/env python3
"""Turns the bench overlay (appsettings.bench.json) into --Key:Sub=value command-line arguments for the gateway.

Usage: overlay-args.py OVERLAY BASE [Key:Sub=value ...]
  OVERLAY  the bench overlay (JSON)
  BASE     the gateway's own appsettings.json, which the gateway still loads underneath the arguments
  Key=...  run-specific overrides (ports, Redis address, key prefix), applied last

ASP.NET Core merges lists by index: an argument can replace entry 0 of a list but cannot remove entry 3. A list in
the overlay that is shorter than the same list in BASE would therefore keep BASE's extra entries (for example a
second IpBans:BanDurations entry of 10 minutes under a one-entry bench ladder): that is refused with exit code 2.
"""
import json
import sys


def flatten(node, prefix, out, lists):
    if isinstance(node, dict):
        for key, value in node.items():
            flatten(value, f"{prefix}:{key}" if prefix else key, out, lists)
    elif isinstance(node, list):
        lists[prefix.lower()] = (prefix, len(node))
        for i, value in enumerate(node):
            flatten(value, f"{prefix}:{i}", out, lists)
    elif node is None:
        out[prefix] = ""
    elif isinstance(node, bool):
        out[prefix] = "true" if node else "false"
    else:
        out[prefix] = str(node)


def main():
    overlay_path, base_path, *overrides = sys.argv[1:]
    with open(overlay_path, encoding="utf-8") as f:
        overlay = json.load(f)
    with open(base_path, encoding="utf-8-sig") as f:
        base = json.load(f)

    flat, lists = {}, {}
    flatten(overlay, "", flat, lists)
    base_flat, base_lists = {}, {}
    flatten(base, "", base_flat, base_lists)
    short = [f"{path} has {n} entries, the gateway's appsettings.json {base_lists[key][1]}"
             for key, (path, n) in lists.items() if key in base_lists and base_lists[key][1] > n]
    if short:
        sys.stderr.write("overlay lists shorter than the gateway's (command-line arguments cannot remove list entries; "
                         "give at least as many): " + "; ".join(short) + "\n")
        sys.exit(2)

    for override in overrides:
        key, _, value = override.partition("=")
        for existing in [k for k in flat if k.lower() == key.lower()]:
            del flat[existing]
        flat[key] = value
    sys.stdout.write("".join(f"--{k}={v}\n" for k, v in flat.items()))


if __name__ == "__main__":
    main()
