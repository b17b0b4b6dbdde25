/*
 * replay_main.c — plain main for fuzz targets: feeds every file of the given directories
 * (recursively) or files to LLVMFuzzerTestOneInput once. Used by ctest to replay the fuzz
 * corpora under ASan+UBSan without libFuzzer. Seed lists: a file "<dir>.seeds" next to a
 * corpus directory may list extra directories (relative to ../shared) to replay too.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long nfiles;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0 || n > (64L << 20)) {
        fclose(f);
        return;
    }
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        nfiles++;
    }
    free(buf);
    fclose(f);
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        run_path(sub);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        run_path(argv[i]);
        char seeds[4096];
        snprintf(seeds, sizeof(seeds), "%s.seeds", argv[i]);
        FILE *f = fopen(seeds, "r");
        if (f) {
            char line[2048];
            const char *shared = getenv("VG_SHARED");
            while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\r\n")] = '\0';
                if (!line[0] || line[0] == '#') {
                    continue;
                }
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", shared ? shared : "../shared", line);
                run_path(p);
            }
            fclose(f);
        }
    }
    printf("replayed %ld inputs\n", nfiles);
    return 0;
}
