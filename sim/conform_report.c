/*
 * conform_report.c - `depotsim conform --json FILE --junit FILE`: the catalogue's verdicts for CI systems, as JSON
 * and as JUnit XML (a testcase per scenario; FAIL a <failure> with the frames as evidence, SKIP a <skipped> with
 * its reason).
 */
#include "conform.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cf_verdict_name(enum cf_verdict v) { return v == CF_PASS ? "PASS" : v == CF_FAIL ? "FAIL" : "SKIP"; }

int cf_report_json(const char *path, const struct cf_result *r, int n, char *err, size_t err_len)
{
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "scenarios");
    int count[3] = {0};
    for (int i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", r[i].name);
        cJSON_AddStringToObject(s, "what", r[i].what);
        cJSON_AddStringToObject(s, "verdict", cf_verdict_name(r[i].v));
        cJSON_AddStringToObject(s, "why", r[i].why);
        if (r[i].evidence[0]) cJSON_AddStringToObject(s, "evidence", r[i].evidence);
        cJSON_AddNumberToObject(s, "seconds", r[i].seconds);
        cJSON_AddItemToArray(a, s);
        count[r[i].v]++;
    }
    cJSON_AddNumberToObject(o, "passed", count[CF_PASS]);
    cJSON_AddNumberToObject(o, "failed", count[CF_FAIL]);
    cJSON_AddNumberToObject(o, "skipped", count[CF_SKIP]);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    FILE *f = text ? fopen(path, "w") : NULL;
    int rc = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF ? 0 : -1;
    if (f && fclose(f)) rc = -1;
    if (rc) snprintf(err, err_len, "cannot write %s", path);
    cJSON_free(text);
    return rc;
}

/* XML text: the five entities, and control characters (not allowed in XML 1.0) as '?'. */
static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' ? '?' : *s, f);
        }
    }
}

int cf_report_junit(const char *path, const struct cf_result *r, int n, char *err, size_t err_len)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, err_len, "cannot write %s", path);
        return -1;
    }
    int fails = 0, skips = 0;
    double total = 0;
    for (int i = 0; i < n; i++) fails += r[i].v == CF_FAIL, skips += r[i].v == CF_SKIP, total += r[i].seconds;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
               "<testsuite name=\"depotsim conform\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" "
               "time=\"%.3f\">\n", n, fails, skips, total);
    for (int i = 0; i < n; i++) {
        fprintf(f, "  <testcase classname=\"depotsim.conform\" name=\"");
        xml_text(f, r[i].name);
        fprintf(f, "\" time=\"%.3f\">", r[i].seconds);
        if (r[i].v != CF_PASS) {
            fprintf(f, r[i].v == CF_FAIL ? "\n    <failure message=\"" : "\n    <skipped message=\"");
            xml_text(f, r[i].why);
            fprintf(f, r[i].v == CF_FAIL ? "\">" : "\"/>\n  ");
            if (r[i].v == CF_FAIL) {
                xml_text(f, r[i].evidence);
                fprintf(f, "</failure>\n  ");
            }
        }
        fprintf(f, "</testcase>\n");
    }
    fprintf(f, "</testsuite>\n</testsuites>\n");
    if (fclose(f)) {
        snprintf(err, err_len, "cannot write %s", path);
        return -1;
    }
    return 0;
}

void cf_result_print(const struct cf_result *x)
{
    printf("%-24s %-5s %s: %s\n", x->name, cf_verdict_name(x->v), x->what, x->why);
    if (x->v == CF_FAIL && x->evidence[0])
        printf("    frames (> sent, < received):\n%s", x->evidence);
    fflush(stdout);
}

int cf_reports_write(const char *json_path, const char *junit_path, const struct cf_result *r, int n, const char *who)
{
    char err[256];
    if ((json_path && cf_report_json(json_path, r, n, err, sizeof err)) ||
        (junit_path && cf_report_junit(junit_path, r, n, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", who, err);
        return -1;
    }
    return 0;
}
