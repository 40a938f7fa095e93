"""Independent judge for the CSV importer: reads a dataset with Python's csv module and the
same mapping and category files, and predicts what ingestion must store.

    dataset_counts.py count MAPPING.json CATEGORIES.json DATA.csv
        → JSON {rows, rejected, categories{code: n}, areas{area: n}, hints[...]}
          (area = "area-" + hint.lower() for a row with an area hint, "unassigned" otherwise;
           a row with neither coordinates nor a hint must be rejected)
    dataset_counts.py mutate DATA.csv OUT.csv COLUMN N
        → a copy whose first N rows have COLUMN changed
"""
import csv
import json
import sys

CANONICAL = {
    "homicide", "assault", "sex_offense", "domestic_violence", "robbery", "burglary", "theft",
    "motor_vehicle_theft", "arson", "vandalism", "fraud", "drug", "weapons", "disorder", "noise",
    "traffic", "suspicious_activity", "mental_health_crisis", "missing_person", "animal",
    "public_health", "other",
}


def first_value(row, binding):
    if binding is None:
        return None
    columns = binding.get("columns") or [binding["column"]]
    missing = set(binding.get("missing_values", []))
    for column in columns:
        value = (row.get(column) or "").strip()
        if value and value not in missing:
            return value
    return None


def count(mapping_path, categories_path, data_path):
    mapping = json.load(open(mapping_path))
    labels = json.load(open(categories_path))["labels"]
    fields = mapping["fields"]
    result = {"rows": 0, "rejected": 0, "categories": {}, "areas": {}, "hints": set()}
    with open(data_path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            result["rows"] += 1
            lat = first_value(row, fields.get("latitude"))
            lon = first_value(row, fields.get("longitude"))
            hint = first_value(row, fields.get("area_hint"))
            if not (lat and lon) and not hint:
                result["rejected"] += 1
                continue
            label = first_value(row, fields["category"])
            code = labels.get(label) or (label.strip().lower() if label and label.strip().lower() in CANONICAL else "other")
            result["categories"][code] = result["categories"].get(code, 0) + 1
            area = "area-" + hint.lower() if hint else "unassigned"
            result["areas"][area] = result["areas"].get(area, 0) + 1
            if hint:
                result["hints"].add(hint)
    result["hints"] = sorted(result["hints"])
    print(json.dumps(result, sort_keys=True))


def mutate(data_path, out_path, column, n):
    with open(data_path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        names = reader.fieldnames
    for row in rows[: int(n)]:
        row[column] = (row[column] or "") + " (corrected)"
    with open(out_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    {"count": count, "mutate": mutate}[sys.argv[1]](*sys.argv[2:])
