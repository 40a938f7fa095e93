"""Sends a NUL character (%00) in every path and query parameter of every operation of an
OpenAPI file, one parameter at a time, with and without the credential, and fails when any
answer is a server error.

schemathesis finds these by chance (it found a NUL in `external_id` and in Open311's
`jurisdiction_id`, each after many clean runs); this covers the whole class every run.
PostgreSQL text cannot hold a NUL, so a value that reaches a query unchecked is a 500.

usage: nul_probe.py OPENAPI.yaml BASE_URL [--header 'Name: value']... [--exclude-path P]...
Prints one line per probe that failed and a summary line `probes N server errors M`.
"""

import argparse
import sys
import urllib.error
import urllib.request

import yaml

METHODS = ("get", "post", "put", "patch", "delete")


def resolve(spec, item):
    """A parameter or schema object with its `$ref` (within the file) followed."""
    while isinstance(item, dict) and "$ref" in item:
        node = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            node = node[part]
        item = node
    return item


def sample(spec, parameter):
    """A value the parameter accepts, so only the probed parameter is wrong."""
    schema = resolve(spec, parameter.get("schema", {}))
    for candidate in (parameter.get("example"), schema.get("example"), (schema.get("enum") or [None])[0], schema.get("default")):
        if candidate is not None:
            return str(candidate)
    if schema.get("format") == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    if schema.get("type") in ("integer", "number"):
        return "1"
    return "x"


def probes(spec, excluded):
    for path, item in spec.get("paths", {}).items():
        if path in excluded:
            continue
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            parameters = [resolve(spec, p) for p in shared + operation.get("parameters", [])]
            parameters = [p for p in parameters if p.get("in") in ("path", "query")]
            for target in parameters:
                url = path
                query = []
                for p in parameters:
                    value = "a%00b" if p is target else sample(spec, p).replace("/", "%2F")
                    if p["in"] == "path":
                        url = url.replace("{" + p["name"] + "}", value)
                    elif p is target:
                        query.append(f"{p['name']}={value}")
                yield method.upper(), url + ("?" + "&".join(query) if query else ""), target["name"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("spec")
    parser.add_argument("base_url")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--exclude-path", action="append", default=[])
    arguments = parser.parse_args()
    with open(arguments.spec, encoding="utf-8") as file:
        spec = yaml.safe_load(file)
    headers = dict(h.split(": ", 1) for h in arguments.header)
    count = failures = 0
    for method, url, name in probes(spec, set(arguments.exclude_path)):
        for with_headers in (True, False):
            count += 1
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            request = urllib.request.Request(arguments.base_url.rstrip("/") + url, method=method, data=body)
            request.add_header("Content-Type", "application/json")
            if with_headers:
                for key, value in headers.items():
                    request.add_header(key, value)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError as error:
                status = f"no answer ({error})"
            if not isinstance(status, int) or status >= 500:
                failures += 1
                credential = "with" if with_headers else "without"
                print(f"{method} {url} (NUL in {name}, {credential} credential): {status}")
    print(f"probes {count} server errors {failures}")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
