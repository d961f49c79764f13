/*
 * schema_tables.h - the shape of the constant schema tables that ocpp/gen_schemas.py generates from the
 * official OCPP 2.0.1 JSON schemas. Private to ocpp/ (not part of the public contract).
 *
 * Every schema node of every file becomes one struct sch_node; $ref is resolved at build time into a
 * node index, and identical nodes (CustomDataType, the shared enums, ...) are emitted once.
 */
#ifndef OCPP_SCHEMA_TABLES_H
#define OCPP_SCHEMA_TABLES_H

#include <stdbool.h>
#include <stdint.h>

enum sch_type {
    SCH_ANY = 0, /* no "type" keyword: the other keywords apply to the instance types they concern */
    SCH_STRING,
    SCH_OBJECT,
    SCH_INTEGER,
    SCH_NUMBER,
    SCH_BOOLEAN,
    SCH_ARRAY,
};

enum sch_format { SCH_FORMAT_NONE = 0, SCH_FORMAT_DATE_TIME };

struct sch_prop {
    const char *name;
    int32_t node;  /* index in ocpp_sch_nodes */
    bool required;
};

struct sch_node {
    uint8_t type;           /* enum sch_type */
    uint8_t format;         /* enum sch_format */
    bool no_additional;     /* "additionalProperties": false */
    bool exclusive_min, exclusive_max;
    int32_t min_length, max_length; /* -1: absent; counted in Unicode code points */
    int32_t min_items, max_items;   /* -1: absent */
    /* Decimal text exactly as the schema writes it (NULL: absent), compared on decimal value. */
    const char *minimum, *maximum, *multiple_of;
    const struct sch_prop *props;
    int32_t n_props;
    const char *const *enums; /* string enums; NULL: no "enum" */
    int32_t n_enums;
    int32_t items;            /* node index for array items; -1: any */
};

#define SCH_SENT_BY_STATION 1u
#define SCH_SENT_BY_CSMS 2u

struct sch_action {
    const char *name;
    int32_t request;   /* node index of <Action>Request */
    int32_t response;  /* node index of <Action>Response */
    unsigned senders;  /* SCH_SENT_BY_* */
};

extern const struct sch_node ocpp_sch_nodes[];
extern const int32_t ocpp_sch_n_nodes;
extern const struct sch_action ocpp_sch_actions[]; /* sorted by strcmp(name) */
extern const int32_t ocpp_sch_n_actions;

#endif
