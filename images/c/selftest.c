/* Self-test of the c image: compiled by the profile's compile step, run as ./a.out. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int setid;

static int count_setid(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (type == FTW_F && (st->st_mode & (S_ISUID | S_ISGID)) != 0)
        setid++;
    return 0;
}

static void *work(void *arg)
{
    int *n = arg;
    *n *= 2;
    return NULL;
}

int main(void)
{
    int n = 21;
    pthread_t t;
    if (pthread_create(&t, NULL, work, &n) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    printf("thread %d\n", n);
    printf("libm %.4f\n", sqrt(2.0));
    char *buf = malloc(1 << 20);
    memset(buf, 'x', 1 << 20);
    printf("malloc %zu\n", strlen(buf) > 0 ? (size_t)(1 << 20) : 0);
    free(buf);
    FILE *f = fopen("/tmp/out.txt", "w");
    if (f == NULL)
        return 2;
    fputs("written", f);
    fclose(f);
    printf("file ok\n");
    printf("c %ld\n", __STDC_VERSION__);
    /* No setuid or setgid program where programs live (the Dockerfile strips them; selftest.sh checks the whole image). */
    const char *tops[] = { "/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/local", "/opt" };
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++)
        nftw(tops[i], count_setid, 16, FTW_PHYS);
    printf("setid %d\n", setid);
    return 0;
}
