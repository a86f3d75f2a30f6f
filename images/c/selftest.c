/* Self-test of the c image: compiled by the profile's compile step, run as ./a.out. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return 0;
}
