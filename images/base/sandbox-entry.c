/*
 * sandbox-entry: unpacks the program's files from stdin into /tmp, then runs the command.
 *
 * Built static by images/build.sh (gcc -static -O2) and copied into every image as /usr/local/bin/sandbox-entry; the
 * host names it as the container's entrypoint, so the image's own entrypoint is never trusted.
 *
 * The container's root filesystem is read-only, /tmp is a fresh tmpfs and no host path is mounted, so the host streams
 * the files ahead of the program's own stdin:
 *
 *   SANDBOX-FILES 1\n
 *   <count>\n
 *   <count> times: <size-in-bytes> <octal-mode> <relative-path>\n followed by exactly <size> raw bytes
 *
 * and whatever follows is the program's stdin. Every read(2) asks for no more than the stream still owes the current
 * line or file (header lines are read a byte at a time), so nothing past the files is consumed.
 *
 * Usage: sandbox-entry [--outputs] [--prestart] [--] <command> [args...]
 *
 *   (no option)  exec the command once the files are written (the compile step, profiles without artifacts).
 *   --outputs    the run step with artifacts (see OutputsCommand on the host): after the files comes a nonce line; the
 *                entry makes /tmp/outputs, runs the command as its child, then writes on stdout
 *                "\036SANDBOX-OUTPUTS <nonce>\n" and, if /tmp/outputs holds anything, a GNU tar of it; last, only if no
 *                other process is left in the container, "\036SANDBOX-END <nonce> <status> <0|1>\n" on stderr, so the
 *                host knows both streams are whole without waiting for the daemon. Exits with the program's status.
 *   --prestart   start the command at once, before the files arrive, with the read end of a pipe as descriptor 3; it
 *                must block on that descriptor and run the program when one byte 'g' arrives (for Python:
 *                images/python/sandbox_prestart.py). The entry writes the byte once the files (and the nonce) are in
 *                place, so an interpreter's start-up is paid while a warm container waits, not on the run's clock.
 *
 * Exit 125 (with "sandbox-entry: ..." on stderr) means the stream or a path was bad; the program did not start. Paths
 * were validated on the host already; they are checked again here (defence in depth). 126/127: the command could not
 * be run. Otherwise the program's own status (128 + the signal when a signal ended it, as a shell reports it).
 *
 * Why C and not the shell script it replaces: the script forked head, wc and chmod per file and a second shell for the
 * outputs step, about 7 ms of a warm run's 45 on two cores; one static process does the same with no fork but the
 * program's (and tar's, only when there are outputs).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define ENTRY_FAILED 125
#define MAX_LINE 8192   /* a header line: size, mode and a path the host already capped */
#define MAX_NONCE 256

static pid_t prestarted = -1;

static void die(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *format, ...)
{
    char message[MAX_LINE + 256];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    dprintf(2, "sandbox-entry: %s\n", message);
    if (prestarted > 0) {
        /* The program never got its files: it must not run at all. */
        kill(prestarted, SIGKILL);
        waitpid(prestarted, NULL, 0);
    }
    _exit(ENTRY_FAILED);
}

/* Reads one line (without its newline) a byte at a time, so nothing after it is taken from the pipe. 0 at end of input. */
static int read_line(char *line, size_t capacity, const char *what)
{
    size_t length = 0;
    for (;;) {
        char c;
        ssize_t n = read(0, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            die("%s: cannot read the stream: %s", what, strerror(errno));
        }
        if (n == 0) {
            if (length == 0) {
                return 0;
            }
            die("%s: input ended inside a header line", what);
        }
        if (c == '\n') {
            line[length] = '\0';
            return 1;
        }
        if (length + 1 >= capacity) {
            die("%s: header line too long", what);
        }
        line[length++] = c;
    }
}

static int is_number(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return 1;
}

/* A decimal that fits in 62 bits, or -1. */
static long long parse_size(const char *s)
{
    if (!is_number(s) || strlen(s) > 18) {
        return -1;
    }
    return strtoll(s, NULL, 10);
}

static int has_segment(const char *path, const char *segment)
{
    size_t n = strlen(segment);
    for (const char *p = path; p; p = strchr(p, '/')) {
        if (*p == '/') {
            p++;
        }
        if (strncmp(p, segment, n) == 0 && (p[n] == '/' || p[n] == '\0')) {
            return 1;
        }
    }
    return 0;
}

/* mkdir -p of the folder part of path (relative to /tmp), each folder 0755 after the umask. */
static int make_parents(char *path)
{
    for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int made = mkdir(path, 0777);
        int err = errno;
        struct stat st;
        int ok = made == 0 || (err == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode));
        *slash = '/';
        if (!ok) {
            return -1;
        }
    }
    return 0;
}

static void write_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t n = write(fd, data, length);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* the host stopped reading: nothing useful is left to say */
        }
        data += n;
        length -= (size_t)n;
    }
}

static void unpack_files(void)
{
    char line[MAX_LINE];
    if (!read_line(line, sizeof line, "bad header")) {
        die("bad header: expected 'SANDBOX-FILES 1', got end of input");
    }
    if (strcmp(line, "SANDBOX-FILES 1") != 0) {
        die("bad header: expected 'SANDBOX-FILES 1'");
    }
    if (!read_line(line, sizeof line, "bad header")) {
        die("bad header: missing file count");
    }
    long long count = parse_size(line);
    if (count < 0) {
        die("bad header: file count is not a number");
    }

    static char buffer[64 * 1024];
    for (long long i = 1; i <= count; i++) {
        if (!read_line(line, sizeof line, "file header")) {
            die("file %lld of %lld: missing header line", i, count);
        }
        /* "<size> <mode> <path>": split on the first two spaces only, so a path keeps its own spaces. */
        char *mode = strchr(line, ' ');
        char *path = mode ? strchr(mode + 1, ' ') : NULL;
        if (!mode || !path) {
            die("file %lld: bad header line", i);
        }
        *mode++ = '\0';
        *path++ = '\0';
        long long size = parse_size(line);
        if (size < 0) {
            die("file %lld: size is not a number", i);
        }
        if (*mode == '\0' || strspn(mode, "01234567") != strlen(mode)) {
            die("file %lld: mode is not octal", i);
        }
        /* Permission bits only: a setuid, setgid or sticky bit has no business on a program's input. */
        size_t mode_digits = strlen(mode);
        if (mode_digits >= 5 || (mode_digits == 4 && mode[0] != '0')) {
            die("file %lld: mode %s has setuid, setgid or sticky bits (or too many digits)", i, mode);
        }
        mode_t bits = (mode_t)strtol(mode, NULL, 8);
        if (*path == '\0') {
            die("file %lld: empty path", i);
        }
        if (*path == '/') {
            die("file %lld: absolute paths are refused", i);
        }
        if (has_segment(path, "..")) {
            die("file %lld: '..' segments are refused", i);
        }
        for (const char *p = path; *p; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                die("file %lld: control characters in paths are refused", i);
            }
        }
        if (strchr(path, '/') && make_parents(path) != 0) {
            die("file %lld: cannot create the folder of %s", i, path);
        }
        /* O_NOFOLLOW: a name is written as a file, never through a link (none can exist here, but it costs nothing). */
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            die("file %lld: cannot write %s", i, path);
        }
        long long left = size;
        while (left > 0) {
            size_t want = left < (long long)sizeof buffer ? (size_t)left : sizeof buffer;
            ssize_t n = read(0, buffer, want);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                /* A short stream would leave a short file; refuse it rather than run half a program. */
                die("file %lld: input ended before %lld bytes of %s", i, size, path);
            }
            for (ssize_t done = 0; done < n;) {
                ssize_t w = write(fd, buffer + done, (size_t)(n - done));
                if (w < 0 && errno == EINTR) {
                    continue;
                }
                if (w <= 0) {
                    die("file %lld: cannot write %s", i, path);
                }
                done += w;
            }
            left -= n;
        }
        if (fchmod(fd, bits) != 0) {
            die("file %lld: cannot set mode %s on %s", i, mode, path);
        }
        if (close(fd) != 0) {
            die("file %lld: cannot write %s", i, path);
        }
    }
}

static void exec_command(char **command) __attribute__((noreturn));

static void exec_command(char **command)
{
    execvp(command[0], command);
    int err = errno;
    dprintf(2, "sandbox-entry: cannot run %s: %s\n", command[0], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
}

/* Forks the command; with go_pipe, its read end becomes descriptor 3 and the write end stays with us. */
static pid_t start_command(char **command, int go_pipe[2])
{
    pid_t pid = fork();
    if (pid < 0) {
        die("cannot start %s: %s", command[0], strerror(errno));
    }
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL); /* an ignored signal would stay ignored across exec */
        if (go_pipe) {
            close(go_pipe[1]);
            if (go_pipe[0] == 3) {
                /* Already descriptor 3: only its close-on-exec flag has to go. */
                if (fcntl(3, F_SETFD, 0) != 0) {
                    _exit(ENTRY_FAILED);
                }
            } else if (dup2(go_pipe[0], 3) < 0) {
                _exit(ENTRY_FAILED);
            } else {
                close(go_pipe[0]);
            }
        }
        exec_command(command);
    }
    return pid;
}

static int wait_status(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return ENTRY_FAILED;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int folder_has_entries(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir) {
        return 0;
    }
    int any = 0;
    for (struct dirent *e; !any && (e = readdir(dir));) {
        any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(dir);
    return any;
}

/* GNU format, links archived as links (never followed: -h is not given), hard links written as the file they name, in
 * name order (the host's caps keep the same files every time), tar's own complaints discarded (stderr is the program's). */
static void write_outputs_tar(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        return;
    }
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 2);
        }
        char *tar[] = {"tar", "-C", "/tmp/outputs", "--format=gnu", "--hard-dereference", "--sort=name", "-cf", "-", ".", NULL};
        execvp(tar[0], tar);
        _exit(127);
    }
    wait_status(pid);
}

/* Whether any process other than pid 1 (docker-init) and this one is left in the container's pid namespace. */
static int others_left(void)
{
    DIR *proc = opendir("/proc");
    if (!proc) {
        return 1; /* unknown counts as "left": the host then waits for the kernel and the daemon */
    }
    char self[32];
    snprintf(self, sizeof self, "%d", (int)getpid());
    int left = 0;
    for (struct dirent *e; !left && (e = readdir(proc));) {
        left = is_number(e->d_name) && strcmp(e->d_name, "1") != 0 && strcmp(e->d_name, self) != 0;
    }
    closedir(proc);
    return left;
}

int main(int argc, char **argv)
{
    int outputs = 0, prestart = 0, i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--outputs") == 0) {
            outputs = 1;
        } else if (strcmp(argv[i], "--prestart") == 0) {
            prestart = 1;
        } else {
            break; /* not ours: the command itself */
        }
    }
    if (i >= argc) {
        die("usage: sandbox-entry [--outputs] [--prestart] [--] <command> [args...]");
    }
    char **command = argv + i;
    umask(022);
    if (chdir("/tmp") != 0) {
        die("cannot enter /tmp");
    }

    int go[2] = {-1, -1};
    if (prestart) {
        if (pipe2(go, O_CLOEXEC) != 0) {
            die("cannot make the start pipe: %s", strerror(errno));
        }
        /* The child's descriptor 3 is made inheritable there; ours stay close-on-exec, so tar never holds them. */
        prestarted = start_command(command, go);
        close(go[0]);
        /* A program that died before its start (a broken interpreter) must not kill us with SIGPIPE on the byte. */
        signal(SIGPIPE, SIG_IGN);
    }

    unpack_files();

    char nonce[MAX_NONCE] = "";
    if (outputs) {
        if (!read_line(nonce, sizeof nonce, "nonce")) {
            die("the outputs nonce is missing");
        }
        /* Made before the program starts, so a program can write to it at once. */
        mkdir("/tmp/outputs", 0777);
    }

    if (!outputs && !prestart) {
        exec_command(command);
    }

    pid_t child = prestarted;
    if (prestart) {
        write_all(go[1], "g", 1);
        close(go[1]);
        prestarted = -1; /* handed over: from here on it is the program, whatever happens to us */
    } else {
        child = start_command(command, NULL);
    }
    /* The program owns stdin now; nothing of ours reads it again. */
    close(0);

    int status = wait_status(child);
    if (!outputs) {
        return status;
    }

    char line[MAX_NONCE + 64];
    int n = snprintf(line, sizeof line, "\036SANDBOX-OUTPUTS %s\n", nonce);
    write_all(1, line, (size_t)n);
    int tar = folder_has_entries("/tmp/outputs");
    if (tar) {
        write_outputs_tar();
    }
    /* Only with nothing else left can nothing write after the end line; else the host waits for the kernel and the daemon. */
    if (!others_left()) {
        n = snprintf(line, sizeof line, "\036SANDBOX-END %s %d %d\n", nonce, status, tar);
        write_all(2, line, (size_t)n);
    }
    return status;
}
