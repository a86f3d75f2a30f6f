// Built with: clang-14 --target=wasm32-wasi --sysroot=<wasi-libc sysroot> -O2 -Wl,--strip-all fs.c -o fs.wasm
// A WASI file-system probe: argv[1] names a scenario; each prints one line per step with the libc errno
// (wasi-libc's errno values are WASI's), so tests assert exact outcomes. Used by WasiFileSystemTests.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void report(const char *step, int ok) { printf("%s=%d\n", step, ok ? 0 : errno); }

static void list(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) { printf("list %s errno=%d\n", dir, errno); return; }
  printf("list %s:", dir);
  struct dirent *e;
  while ((e = readdir(d))) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) printf(" %s", e->d_name);
  printf("\n");
  closedir(d);
}

static int tmp(void) {
  report("mkdir", mkdir("/tmp/a", 0755) == 0);
  FILE *f = fopen("/tmp/a/b.txt", "w");
  report("create", f != NULL);
  if (!f) return 1;
  fputs("hello tmp\n", f);
  fclose(f);
  struct stat st;
  report("stat", stat("/tmp/a/b.txt", &st) == 0);
  printf("size=%lld dir=%d\n", (long long)st.st_size, S_ISDIR(st.st_mode) ? 1 : 0);
  int fd = open("/tmp/a/b.txt", O_RDONLY);
  char buf[64] = {0};
  lseek(fd, 6, SEEK_SET);
  printf("tell=%lld\n", (long long)lseek(fd, 0, SEEK_CUR));
  ssize_t n = read(fd, buf, sizeof buf - 1);
  printf("read=%zd %s", n, buf);
  n = pread(fd, buf, 5, 0);
  buf[n] = 0;
  printf("pread=%s\n", buf);
  close(fd);
  f = fopen("/tmp/a/b.txt", "a");
  fputs("more\n", f);
  fclose(f);
  stat("/tmp/a/b.txt", &st);
  printf("appended=%lld\n", (long long)st.st_size);
  list("/tmp/a");
  report("rename", rename("/tmp/a/b.txt", "/tmp/c.txt") == 0);
  list("/tmp");
  report("rmdir-root", rmdir("/tmp") == 0);
  report("rmdir", rmdir("/tmp/a") == 0);
  report("unlink", unlink("/tmp/c.txt") == 0);
  report("unlink-again", unlink("/tmp/c.txt") == 0);
  list("/tmp");
  return 0;
}

static int readonly(void) {
  FILE *f = fopen("/usr/local/lib/hello.txt", "r");
  report("open", f != NULL);
  char buf[64] = {0};
  if (f) { fgets(buf, sizeof buf, f); fclose(f); }
  printf("content=%s", buf);
  list("/usr/local");
  list("/usr/local/lib");
  report("write", fopen("/usr/local/lib/hello.txt", "w") != NULL);
  report("append", fopen("/usr/local/lib/hello.txt", "a") != NULL);
  report("create", open("/usr/local/new.txt", O_WRONLY | O_CREAT, 0644) >= 0);
  report("mkdir", mkdir("/usr/local/d", 0755) == 0);
  report("unlink", unlink("/usr/local/lib/hello.txt") == 0);
  report("rmdir", rmdir("/usr/local/lib") == 0);
  report("rename", rename("/usr/local/lib/hello.txt", "/usr/local/lib/x.txt") == 0);
  report("rename-to-tmp", rename("/usr/local/lib/hello.txt", "/tmp/x.txt") == 0);
  return 0;
}

static int escape(void) {
  report("dotdot", open("/usr/local/../../etc/passwd", O_RDONLY) >= 0);
  report("dotdot-tmp", open("/tmp/../etc/passwd", O_RDONLY) >= 0);
  report("dotdot-inside", open("/usr/local/lib/../lib/hello.txt", O_RDONLY) >= 0);
  report("absolute", open("/etc/passwd", O_RDONLY) >= 0);
  report("link-file", open("/usr/local/link-to-secret", O_RDONLY) >= 0);
  report("link-dir", open("/usr/local/link-to-outside/secret.txt", O_RDONLY) >= 0);
  struct stat st;
  report("link-stat", stat("/usr/local/link-to-outside", &st) == 0);
  report("link-list", opendir("/usr/local/link-to-outside") != NULL);
  return 0;
}

static int full(void) {
  FILE *f = fopen("/tmp/big", "w");
  if (!f) { report("create", 0); return 1; }
  setvbuf(f, NULL, _IONBF, 0);
  static char chunk[4096];
  memset(chunk, 'x', sizeof chunk);
  long total = 0;
  for (;;) {
    size_t n = fwrite(chunk, 1, sizeof chunk, f);
    total += (long)n;
    if (n < sizeof chunk) break;
  }
  printf("written=%ld errno=%d\n", total, errno);
  fclose(f);
  int created = 0;
  for (int i = 0; i < 100; i++) {
    char name[32];
    snprintf(name, sizeof name, "/tmp/f%d", i);
    int fd = open(name, O_WRONLY | O_CREAT, 0644);
    if (fd < 0) { printf("entries=%d errno=%d\n", created, errno); return 0; }
    close(fd);
    created++;
  }
  printf("entries=%d\n", created);
  return 0;
}

static int sleeper(const char *ms) {
  struct timespec a, b, d = { .tv_sec = atoi(ms) / 1000, .tv_nsec = (atoi(ms) % 1000) * 1000000L };
  clock_gettime(CLOCK_MONOTONIC, &a);
  nanosleep(&d, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long elapsed = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  printf("slept=%d\n", elapsed >= atoi(ms) ? 1 : 0);
  return 0;
}

static int stdin_poll(void) {
  struct pollfd p = { .fd = 0, .events = POLLIN };
  int n = poll(&p, 1, 1000);
  printf("poll=%d revents=%d\n", n, (p.revents & POLLIN) ? 1 : 0);
  char buf[64] = {0};
  read(0, buf, sizeof buf - 1);
  printf("stdin=%s", buf);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (!strcmp(argv[1], "tmp")) return tmp();
  if (!strcmp(argv[1], "readonly")) return readonly();
  if (!strcmp(argv[1], "escape")) return escape();
  if (!strcmp(argv[1], "full")) return full();
  if (!strcmp(argv[1], "sleep")) return sleeper(argc > 2 ? argv[2] : "50");
  if (!strcmp(argv[1], "stdin")) return stdin_poll();
  return 2;
}
