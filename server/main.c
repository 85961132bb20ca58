/* main.c: lede-server's command line and life cycle: settings from the conf
 * file and flags, opening the index, starting the HTTP workers, then
 * waiting for signals: SIGHUP reopens the index and swaps it in, SIGTERM or
 * SIGINT stop accepting, let in-flight requests finish and exit 0. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "http.h"

static int log_level = LOG_INFO;

__attribute__((format(printf, 2, 3))) static void say(int level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    if (level > log_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_list ap;
    va_start(ap, fmt);
    flockfile(stderr);
    fprintf(stderr, "%s lede-server %s: ", when, names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lede-server [OPTIONS]\n"
            "Serves a lede index over HTTP: /search, /doc/{id}, /analyze, /suggest, /health,\n"
            "/stats, /metrics (docs/API.md).\n\n"
            "  -c, --config FILE        read settings from FILE (see conf/lede.conf)\n"
            "  -i, --index DIR          index directory            [server] index\n"
            "  -l, --listen HOST:PORT   address to listen on       [server] listen\n"
            "  -t, --threads N          worker threads, 0 = cores  [server] threads\n"
            "      --access-log PATH    '-' = stderr, 'off', or a file\n"
            "      --log-level LEVEL    error, warn, info or debug\n"
            "      --cors-origins LIST  '*' or comma-separated origins\n"
            "  -o, --set KEY=VALUE      any setting, e.g. -o search.max_k=50\n"
            "      --print-config       print the effective settings and exit\n"
            "  -h, --help               this help\n"
            "  -V, --version            print the version\n\n"
            "Flags override the conf file. Signals: SIGHUP reopens the index (requests keep\n"
            "being served; a failed reopen keeps the old index); SIGTERM/SIGINT stop after\n"
            "in-flight requests finish.\n");
}

int main(int argc, char **argv)
{
    static app a;
    char msg[1024];
    config_defaults(&a.cfg);
    enum { O_ACCESS = 256, O_LEVEL, O_CORS, O_PRINT };
    static const struct option longs[] = {
        {"config", required_argument, NULL, 'c'},   {"index", required_argument, NULL, 'i'},
        {"listen", required_argument, NULL, 'l'},   {"threads", required_argument, NULL, 't'},
        {"access-log", required_argument, NULL, O_ACCESS},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"cors-origins", required_argument, NULL, O_CORS},
        {"set", required_argument, NULL, 'o'},      {"print-config", no_argument, NULL, O_PRINT},
        {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    /* The conf file first, whatever its place among the flags. */
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path && config_load(&a.cfg, path, msg, sizeof msg)) {
            fprintf(stderr, "lede-server: %s\n", msg);
            return 2;
        }
    }
    int print = 0, opt;
    while ((opt = getopt_long(argc, argv, "c:i:l:t:o:hV", longs, NULL)) != -1) {
        const char *key = NULL;
        switch (opt) {
        case 'c':
            continue;
        case 'i': key = "server.index"; break;
        case 'l': key = "server.listen"; break;
        case 't': key = "server.threads"; break;
        case O_ACCESS: key = "server.access_log"; break;
        case O_LEVEL: key = "server.log_level"; break;
        case O_CORS: key = "server.cors_origins"; break;
        case 'o': {
            char *eq = strchr(optarg, '=');
            if (!eq) {
                fprintf(stderr, "lede-server: -o wants KEY=VALUE, got \"%s\"\n", optarg);
                return 2;
            }
            *eq = '\0';
            if (config_set(&a.cfg, optarg, eq + 1, msg, sizeof msg)) {
                fprintf(stderr, "lede-server: %s\n", msg);
                return 2;
            }
            continue;
        }
        case O_PRINT: print = 1; continue;
        case 'h': usage(stdout); return 0;
        case 'V': printf("lede-server %s\n", LEDE_VERSION); return 0;
        default:
            fprintf(stderr, "lede-server: see lede-server --help\n");
            return 2;
        }
        if (config_set(&a.cfg, key, optarg, msg, sizeof msg)) {
            fprintf(stderr, "lede-server: %s\n", msg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "lede-server: unexpected argument \"%s\" (see lede-server --help)\n",
                argv[optind]);
        return 2;
    }
    if (config_finish(&a.cfg, msg, sizeof msg) || http_check_listen(a.cfg.listen, msg, sizeof msg)) {
        fprintf(stderr, "lede-server: %s\n", msg);
        return 2;
    }
    if (print) {
        config_print(&a.cfg, stdout);
        return 0;
    }
    log_level = a.cfg.log_level_num;

    /* Signals are taken by sigwait below; every thread started later
     * inherits this mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    FILE *access_log = NULL;
    if (strcmp(a.cfg.access_log, "-") == 0)
        access_log = stderr;
    else if (strcmp(a.cfg.access_log, "off") != 0 && !(access_log = fopen(a.cfg.access_log, "a"))) {
        fprintf(stderr, "lede-server: cannot open access log %s: %s\n", a.cfg.access_log,
                strerror(errno));
        return 1;
    }
    a.started = app_now();
    lede_err err = {0};
    double t0 = app_now();
    if (snapshots_init(&a.snaps, a.cfg.index, &err)) {
        fprintf(stderr, "lede-server: cannot open index %s: %s\n", a.cfg.index, err.msg);
        snapshots_destroy(&a.snaps);
        return 1;
    }
    say(LOG_INFO, "opened index %s: %llu documents, %llu segments, suggestions ready (%.0f ms)",
        a.cfg.index, (unsigned long long)a.snaps.current->stats.documents,
        (unsigned long long)a.snaps.current->stats.segments, (app_now() - t0) * 1000);
    http_server *h;
    if (http_start(&a, access_log, &h, msg, sizeof msg)) {
        fprintf(stderr, "lede-server: %s\n", msg);
        snapshots_destroy(&a.snaps);
        return 1;
    }
    char host[256];
    snprintf(host, sizeof host, "%s", a.cfg.listen);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    say(LOG_INFO, "listening on http://%s:%u", host, http_port(h));
    for (;;) {
        int sig;
        if (sigwait(&sigs, &sig))
            continue;
        if (sig == SIGHUP) {
            lede_err rerr = {0};
            double r0 = app_now();
            if (snapshots_reload(&a.snaps, &rerr))
                say(LOG_ERROR, "reload failed, still serving the previous index: %s", rerr.msg);
            else
                say(LOG_INFO, "reloaded index %s: %llu documents (generation %llu, %.0f ms)",
                    a.cfg.index, (unsigned long long)a.snaps.current->stats.documents,
                    (unsigned long long)a.snaps.current->generation, (app_now() - r0) * 1000);
            continue;
        }
        say(LOG_INFO, "%s: finishing %llu in-flight requests", sig == SIGINT ? "SIGINT" : "SIGTERM",
            (unsigned long long)__atomic_load_n(&a.in_flight, __ATOMIC_RELAXED));
        break;
    }
    http_stop(h, a.cfg.shutdown_timeout);
    snapshots_destroy(&a.snaps);
    say(LOG_INFO, "stopped");
    if (access_log && access_log != stderr)
        fclose(access_log);
    return 0;
}
