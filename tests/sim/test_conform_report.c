/* depotsim conform's reports (sim/conform_report.c): a FAIL whose reason and frames hold XML's special characters
 * and control bytes, a SKIP and a PASS, written as JSON and JUnit XML and read back. */
#include "check.h"
#include "conform.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

int main(void)
{
    static struct cf_result r[3] = {
        {.name = "TC_B_01_CSMS", .what = "cold boot", .v = CF_PASS, .why = "Accepted", .seconds = 0.25},
        {.name = "K08_composite", .what = "composite", .v = CF_SKIP, .why = "no GetCompositeSchedule within 2 s"},
        {.name = "E01 <&>", .what = "tx", .v = CF_FAIL, .why = "interval \"0\" < 1 & 'bad'", .seconds = 1.5},
    };
    snprintf(r[2].evidence, sizeof r[2].evidence, "> [2,\"1\",\"Heartbeat\",{}]\n< [3,\"1\",{\"x\":\"<y>\x01\"}]\n");
    char dir[] = "/tmp/conform-report-XXXXXX", js[64], xml[64], err[200] = "";
    CHECK(mkdtemp(dir) != NULL, "a temporary directory");
    snprintf(js, sizeof js, "%s/r.json", dir);
    snprintf(xml, sizeof xml, "%s/r.xml", dir);
    CHECK(cf_report_json(js, r, 3, err, sizeof err) == 0, "JSON written (%s)", err);
    cJSON *o = cJSON_Parse(slurp(js));
    const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "scenarios"), 2);
    CHECK(o && cJSON_GetNumberValue(cJSON_GetObjectItem(o, "failed")) == 1 &&
              cJSON_GetNumberValue(cJSON_GetObjectItem(o, "skipped")) == 1, "JSON counts: 1 failed, 1 skipped");
    CHECK(s && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(s, "verdict")), "FAIL") == 0 &&
              strstr(cJSON_GetStringValue(cJSON_GetObjectItem(s, "evidence")), "Heartbeat"),
          "the FAIL with its frames");
    cJSON_Delete(o);
    CHECK(cf_report_junit(xml, r, 3, err, sizeof err) == 0, "JUnit XML written (%s)", err);
    const char *x = slurp(xml);
    CHECK(x && strstr(x, "tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), "the suite's counts");
    CHECK(x && strstr(x, "name=\"E01 &lt;&amp;&gt;\""), "a name escaped");
    CHECK(x && strstr(x, "message=\"interval &quot;0&quot; &lt; 1 &amp; &apos;bad&apos;\""), "a reason escaped");
    CHECK(x && strstr(x, "{&quot;x&quot;:&quot;&lt;y&gt;?&quot;}") && !strchr(x, '\x01'),
          "the frames escaped, a control byte replaced");
    CHECK(x && strstr(x, "<skipped message=\"no GetCompositeSchedule within 2 s\"/>"), "the SKIP says why");
    CHECK(cf_report_json("/nonexistent/dir/r.json", r, 3, err, sizeof err) == -1 && strstr(err, "cannot write"),
          "an unwritable path is an error, said");
    unlink(js);
    unlink(xml);
    rmdir(dir);
    return CHECK_DONE();
}
