#!/usr/bin/env python3
"""Compile the official OCPP 2.0.1 JSON schemas into constant C tables (see ocpp/schema_tables.h).

Usage: gen_schemas.py [--partial] OUTPUT.c SCHEMA.json...
  --partial  a test set of schemas: skip the checks that the full OCPP 2.0.1 catalogue is there

Why at build time, into C tables (rather than loading the JSON schemas when depotd starts):
  * the binary is self-contained: nothing to find on the operator's box at run time;
  * validation walks compact constant tables, with no schema parsing at start-up;
  * a broken or changed schema package fails the build, not a charger's message at 3 a.m.

The generator understands exactly the draft-06 keywords that a validator must honour for these schemas and
fails loudly on any other keyword, so a new package version with new constructs cannot be half-validated.
Python 3 standard library only.
"""
import decimal
import json
import os
import sys

# Annotations: no effect on validation. "default" is not applied (the receiver decides defaults).
IGNORED = {"$schema", "$id", "$comment", "description", "javaType", "default", "title"}
UNDERSTOOD = {"type", "$ref", "properties", "required", "additionalProperties", "enum", "maxLength",
              "minLength", "minItems", "maxItems", "minimum", "maximum", "exclusiveMinimum",
              "exclusiveMaximum", "multipleOf", "format", "items", "definitions"}
TYPES = {"string": "SCH_STRING", "object": "SCH_OBJECT", "integer": "SCH_INTEGER", "number": "SCH_NUMBER",
         "boolean": "SCH_BOOLEAN", "array": "SCH_ARRAY"}
FORMATS = {"date-time": "SCH_FORMAT_DATE_TIME"}

# Which side initiates each action (OCPP 2.0.1 Part 2, the "sent by" of each message). Hard-coded because
# the schemas do not say it. Everything not listed here is sent by the CSMS; DataTransfer by both.
SENT_BY_STATION = {
    "Authorize", "BootNotification", "ClearedChargingLimit", "DataTransfer", "FirmwareStatusNotification",
    "Get15118EVCertificate", "GetCertificateStatus", "Heartbeat", "LogStatusNotification", "MeterValues",
    "NotifyChargingLimit", "NotifyCustomerInformation", "NotifyDisplayMessages", "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule", "NotifyEvent", "NotifyMonitoringReport", "NotifyReport",
    "PublishFirmwareStatusNotification", "ReportChargingProfiles", "ReservationStatusUpdate",
    "SecurityEventNotification", "SignCertificate", "StatusNotification", "TransactionEvent",
}
SENT_BY_BOTH = {"DataTransfer"}


class SchemaError(Exception):
    pass


def c_str(s):
    out = ['"']
    for ch in s.encode("utf-8"):
        c = chr(ch)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= ch < 127 and c != "?":  # '?' escaped to avoid trigraph warnings
            out.append(c)
        else:
            out.append("\\%03o" % ch)
    out.append('"')
    return "".join(out)


def dec_text(v, where):
    if isinstance(v, bool) or not isinstance(v, (int, decimal.Decimal)):
        raise SchemaError("%s: expected a number, got %r" % (where, v))
    d = decimal.Decimal(v)
    if not d.is_finite():
        raise SchemaError("%s: not a finite number" % where)
    return str(d)


def count(v, where):
    if isinstance(v, bool) or not isinstance(v, (int, decimal.Decimal)) or v != int(v) or v < 0:
        raise SchemaError("%s: expected a non-negative integer, got %r" % (where, v))
    return int(v)


class Compiler:
    def __init__(self):
        self.nodes = []          # C initializer text per node
        self.by_text = {}        # node text -> index (dedupe identical nodes)
        self.aux = []            # C arrays (props, enums)
        self.aux_by_text = {}
        self.refs = {}           # (file, definition) -> index
        self.in_progress = set()

    def array(self, ctype, prefix, body):
        text = "{%s}" % body
        key = (ctype, text)
        if key not in self.aux_by_text:
            name = "%s_%d" % (prefix, len(self.aux_by_text))
            self.aux_by_text[key] = name
            self.aux.append("static const %s %s[] = %s;" % (ctype, name, text))
        return self.aux_by_text[key]

    def resolve(self, fname, root, ref, where):
        if not isinstance(ref, str) or not ref.startswith("#/definitions/"):
            raise SchemaError("%s: unsupported $ref %r (only #/definitions/X)" % (where, ref))
        name = ref[len("#/definitions/"):]
        defs = root.get("definitions", {})
        if name not in defs:
            raise SchemaError("%s: $ref to missing definition %r" % (where, name))
        key = (fname, name)
        if key in self.refs:
            return self.refs[key]
        if key in self.in_progress:
            raise SchemaError("%s: recursive $ref %r is not supported" % (where, ref))
        self.in_progress.add(key)
        idx = self.node(fname, root, defs[name], "%s#/definitions/%s" % (fname, name))
        self.in_progress.discard(key)
        self.refs[key] = idx
        return idx

    def node(self, fname, root, s, where):
        if not isinstance(s, dict):
            raise SchemaError("%s: schema must be an object" % where)
        for k in s:
            if k not in UNDERSTOOD and k not in IGNORED:
                raise SchemaError("%s: keyword %r is not understood by gen_schemas.py" % (where, k))
        if "$ref" in s:
            # draft-06: siblings of $ref are ignored; refuse validation keywords there rather than guess.
            extra = [k for k in s if k != "$ref" and k not in IGNORED]
            if extra:
                raise SchemaError("%s: keywords %r beside $ref" % (where, extra))
            return self.resolve(fname, root, s["$ref"], where)
        f = {"type": "SCH_ANY", "format": "SCH_FORMAT_NONE", "no_additional": "false",
             "exclusive_min": "false", "exclusive_max": "false", "min_length": "-1", "max_length": "-1",
             "min_items": "-1", "max_items": "-1", "minimum": "NULL", "maximum": "NULL",
             "multiple_of": "NULL", "props": "NULL", "n_props": "0", "enums": "NULL", "n_enums": "0",
             "items": "-1"}
        if "type" in s:
            if s["type"] not in TYPES:
                raise SchemaError("%s: unsupported type %r" % (where, s["type"]))
            f["type"] = TYPES[s["type"]]
        if "format" in s:
            if s["format"] not in FORMATS:
                raise SchemaError("%s: unsupported format %r" % (where, s["format"]))
            f["format"] = FORMATS[s["format"]]
        ap = s.get("additionalProperties", True)
        if ap is False:
            f["no_additional"] = "true"
        elif ap is not True:
            raise SchemaError("%s: additionalProperties other than true/false is not supported" % where)
        for k, field in (("maxLength", "max_length"), ("minLength", "min_length"), ("minItems", "min_items"),
                         ("maxItems", "max_items")):
            if k in s:
                f[field] = str(count(s[k], "%s.%s" % (where, k)))
        for k, field in (("minimum", "minimum"), ("maximum", "maximum"), ("multipleOf", "multiple_of")):
            if k in s:
                f[field] = c_str(dec_text(s[k], "%s.%s" % (where, k)))
        if "multipleOf" in s:
            m = decimal.Decimal(s["multipleOf"])
            # validate.c divides in 64-bit integers: at most 18 significant digits.
            if m <= 0 or len(m.normalize().as_tuple().digits) > 18:
                raise SchemaError("%s: multipleOf must be > 0 with at most 18 significant digits" % where)
        for k, lim, flag in (("exclusiveMinimum", "minimum", "exclusive_min"),
                             ("exclusiveMaximum", "maximum", "exclusive_max")):
            if k in s:  # draft-06: a number, the exclusive bound itself
                if lim in s:
                    raise SchemaError("%s: both %s and %s" % (where, k, lim))
                f[lim] = c_str(dec_text(s[k], "%s.%s" % (where, k)))
                f[flag] = "true"
        if "enum" in s:
            vals = s["enum"]
            if not isinstance(vals, list) or not vals or not all(isinstance(v, str) for v in vals):
                raise SchemaError("%s: only non-empty enums of strings are supported" % where)
            f["enums"] = self.array("char *const", "s_enum", ", ".join(c_str(v) for v in vals))
            f["n_enums"] = str(len(vals))
        if "items" in s:
            if not isinstance(s["items"], dict):
                raise SchemaError("%s: tuple-form items is not supported" % where)
            f["items"] = str(self.node(fname, root, s["items"], where + ".items"))
        props = s.get("properties", {})
        req = s.get("required", [])
        if not isinstance(props, dict) or not isinstance(req, list) or not all(isinstance(r, str) for r in req):
            raise SchemaError("%s: malformed properties/required" % where)
        if len(set(req)) != len(req):
            raise SchemaError("%s: duplicate names in required" % where)
        entries = []
        for name, sub in props.items():
            idx = self.node(fname, root, sub, "%s.%s" % (where, name))
            entries.append("{%s, %d, %s}" % (c_str(name), idx, "true" if name in req else "false"))
        for name in req:
            if name not in props:  # required but unconstrained: any value, must occur
                idx = self.node(fname, root, {}, "%s.%s" % (where, name))
                entries.append("{%s, %d, true}" % (c_str(name), idx))
        if entries:
            f["props"] = self.array("struct sch_prop", "s_props", ", ".join(entries))
            f["n_props"] = str(len(entries))
        text = ("{%(type)s, %(format)s, %(no_additional)s, %(exclusive_min)s, %(exclusive_max)s, "
                "%(min_length)s, %(max_length)s, %(min_items)s, %(max_items)s, %(minimum)s, %(maximum)s, "
                "%(multiple_of)s, %(props)s, %(n_props)s, %(enums)s, %(n_enums)s, %(items)s}" % f)
        if text not in self.by_text:
            self.by_text[text] = len(self.nodes)
            self.nodes.append(text)
        return self.by_text[text]


def load(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    # Some packages ship schemas with a UTF-8 BOM; utf-8-sig strips it.
    text = raw.decode("utf-8-sig")
    return json.loads(text, parse_float=decimal.Decimal)


def main(argv):
    partial = len(argv) > 1 and argv[1] == "--partial"
    if partial:
        argv = argv[1:]
    if len(argv) < 3:
        raise SchemaError("usage: gen_schemas.py [--partial] OUTPUT.c SCHEMA.json...")
    out, files = argv[1], sorted(argv[2:], key=os.path.basename)
    comp = Compiler()
    actions = {}
    for path in files:
        base = os.path.basename(path)
        for suffix, slot in (("Request.json", 0), ("Response.json", 1)):
            if base.endswith(suffix):
                action = base[: -len(suffix)]
                break
        else:
            raise SchemaError("%s: not an <Action>Request.json / <Action>Response.json file" % path)
        schema = load(path)
        if schema.get("type") != "object":
            raise SchemaError("%s: top-level schema is not an object" % path)
        idx = comp.node(base, schema, schema, base)
        for dname in schema.get("definitions", {}):
            comp.resolve(base, schema, "#/definitions/" + dname, base)  # check unused definitions too
        actions.setdefault(action, [None, None])[slot] = idx
    for action, (req, resp) in actions.items():
        if req is None or resp is None:
            raise SchemaError("%s: request or response schema missing" % action)
    for name in SENT_BY_STATION:
        if name not in actions and not partial:
            raise SchemaError("SENT_BY_STATION names %r, which has no schema" % name)
    if len(actions) < 60 and not partial:
        raise SchemaError("only %d actions found: is this the OCPP 2.0.1 schema folder?" % len(actions))
    names = sorted(actions, key=lambda n: n.encode("utf-8"))  # strcmp order, for bsearch
    lines = [
        "/* GENERATED by ocpp/gen_schemas.py from %d OCPP 2.0.1 schema files: do not edit. */" % len(files),
        "/* clang-format off */",
        '#include "schema_tables.h"',
        "#include <stddef.h>",
        "",
    ]
    lines += comp.aux
    lines.append("")
    lines.append("const struct sch_node ocpp_sch_nodes[] = {")
    lines += ["    %s, /* %d */" % (t, i) for i, t in enumerate(comp.nodes)]
    lines.append("};")
    lines.append("const int32_t ocpp_sch_n_nodes = %d;" % len(comp.nodes))
    lines.append("")
    lines.append("const struct sch_action ocpp_sch_actions[] = {")
    for n in names:
        if n in SENT_BY_BOTH:
            senders = "SCH_SENT_BY_STATION | SCH_SENT_BY_CSMS"
        elif n in SENT_BY_STATION:
            senders = "SCH_SENT_BY_STATION"
        else:
            senders = "SCH_SENT_BY_CSMS"
        req, resp = actions[n]
        lines.append("    {%s, %d, %d, %s}," % (c_str(n), req, resp, senders))
    lines.append("};")
    lines.append("const int32_t ocpp_sch_n_actions = %d;" % len(names))
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except (SchemaError, OSError, ValueError) as e:
        sys.stderr.write("gen_schemas.py: error: %s\n" % e)
        sys.exit(1)
