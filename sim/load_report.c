/* depotsim load: the report of a run, as a table or one JSON line. */
#include "load.h"

void sim_load_print(const struct sim_load_options *o, const struct sim_load_result *r, bool json, FILE *out)
{
    uint64_t failures = r->callerrors + r->timeouts + r->invalid + r->not_sent;
    double own = r->cpu_us_per_msg > 0 ? 1e6 / r->cpu_us_per_msg : 0;
    const char *msg = o->meter_values ? "MeterValues" : "Heartbeat";
    if (json) {
        fprintf(out,
                "{\"eventLoop\":\"%s\",\"message\":\"%s\",\"stations\":%d,\"ratePerStation\":%g,\"seconds\":%g,\"connected\":%d,"
                "\"booted\":%d,\"connectFailed\":%d,\"bootRejected\":%d,\"dropped\":%d,\"connectSeconds\":%.3f,"
                "\"planned\":%llu,\"sent\":%llu,\"answered\":%llu,\"callErrors\":%llu,\"timeouts\":%llu,"
                "\"invalid\":%llu,\"notSent\":%llu,\"behindSchedule\":%llu,\"csmsCalls\":%llu,\"failures\":%llu,"
                "\"loadSeconds\":%.3f,\"throughput\":%.1f,"
                "\"rttMs\":{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"mean\":%.3f},"
                "\"lagMs\":{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"mean\":%.3f},"
                "\"cpuSeconds\":%.3f,\"cpuUsPerMessage\":%.2f,\"ownLimitPerCore\":%.0f}\n",
                r->event_loop, msg, r->stations, o->rate, o->seconds, r->connected, r->booted, r->connect_failed, r->boot_rejected,
                r->dropped, r->connect_s, (unsigned long long)r->planned, (unsigned long long)r->sent,
                (unsigned long long)r->answered, (unsigned long long)r->callerrors, (unsigned long long)r->timeouts,
                (unsigned long long)r->invalid, (unsigned long long)r->not_sent, (unsigned long long)r->behind,
                (unsigned long long)r->csms_calls, (unsigned long long)failures, r->load_s, r->throughput,
                r->rtt_ms[0], r->rtt_ms[1], r->rtt_ms[2], r->rtt_ms[3], r->rtt_ms[4], r->lag_ms[0], r->lag_ms[1],
                r->lag_ms[2], r->lag_ms[3], r->lag_ms[4], r->cpu_s, r->cpu_us_per_msg, own);
        return;
    }
    fprintf(out, "depotsim load: %d stations x %g %s/s for %g s (target %.0f msg/s, %s loop)\n", r->stations, o->rate,
            msg, o->seconds, r->stations * o->rate, r->event_loop);
    fprintf(out, "connect+boot   %8.2f s   connected %d, booted %d, connect failed %d, boot rejected %d, dropped %d\n",
            r->connect_s, r->connected, r->booted, r->connect_failed, r->boot_rejected, r->dropped);
    fprintf(out, "messages       planned %llu, sent %llu, answered %llu, behind schedule %llu, CSMS CALLs %llu\n",
            (unsigned long long)r->planned, (unsigned long long)r->sent, (unsigned long long)r->answered,
            (unsigned long long)r->behind, (unsigned long long)r->csms_calls);
    fprintf(out, "failures       %llu (CALLERROR %llu, timeout %llu, invalid %llu, not sent %llu)\n",
            (unsigned long long)failures, (unsigned long long)r->callerrors, (unsigned long long)r->timeouts,
            (unsigned long long)r->invalid, (unsigned long long)r->not_sent);
    fprintf(out, "throughput     %10.1f answered/s over %.2f s\n", r->throughput, r->load_s);
    fprintf(out, "%-14s %9s %9s %9s %9s %9s\n", "latency ms", "p50", "p95", "p99", "max", "mean");
    fprintf(out, "%-14s %9.3f %9.3f %9.3f %9.3f %9.3f\n", "round trip", r->rtt_ms[0], r->rtt_ms[1], r->rtt_ms[2],
            r->rtt_ms[3], r->rtt_ms[4]);
    fprintf(out, "%-14s %9.3f %9.3f %9.3f %9.3f %9.3f\n", "due->answer", r->lag_ms[0], r->lag_ms[1], r->lag_ms[2],
            r->lag_ms[3], r->lag_ms[4]);
    fprintf(out, "depotsim CPU   %8.2f s (%.1f us per message: one core would drive ~%.0f msg/s)\n", r->cpu_s,
            r->cpu_us_per_msg, own);
}
