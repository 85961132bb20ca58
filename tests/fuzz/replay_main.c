/* replay_main.c: a main() for a fuzz target built without libFuzzer. It
 * runs LLVMFuzzerTestOneInput once on every file named on the command line
 * and on every regular file of the directories named (not recursive, sorted
 * by name), so the seed corpus and saved crash inputs replay under any
 * compiler and sanitizer. Each input's name goes to stdout before it runs,
 * so the last name printed is the one that crashed. Exits 1 if an argument
 * cannot be read or nothing was replayed, else 0 with "replayed N inputs". */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Reads the whole file into an exact-size buffer; -1 if it cannot. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *fresh = realloc(buf, cap * 2);
            if (!fresh) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = fresh;
            cap *= 2;
        }
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return -1;
    }
    /* A copy of exactly n bytes, so reading past the input is caught. */
    unsigned char *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    printf("%s\n", path);
    fflush(stdout);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int only_files(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    size_t replayed = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st)) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (replay_file(argv[i]))
                rc = 1;
            else
                replayed++;
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, only_files, alphasort);
        if (n < 0) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        for (int j = 0; j < n; j++) {
            size_t len = strlen(argv[i]) + strlen(names[j]->d_name) + 2;
            char *path = malloc(len);
            if (path) {
                snprintf(path, len, "%s/%s", argv[i], names[j]->d_name);
                struct stat fs;
                if (stat(path, &fs) == 0 && S_ISREG(fs.st_mode)) {
                    if (replay_file(path))
                        rc = 1;
                    else
                        replayed++;
                }
            } else {
                rc = 1;
            }
            free(path);
            free(names[j]);
        }
        free(names);
    }
    if (!replayed) {
        fprintf(stderr, "replay: no inputs (usage: %s FILE|DIR...)\n", argv[0]);
        rc = 1;
    }
    printf("replayed %zu inputs\n", replayed);
    return rc;
}
