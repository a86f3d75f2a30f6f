// Entry point of the QuickJS WASI guest, used instead of quickjs-libc.c (which needs fork, signals
// and a real OS). It gives scripts print() and console.log/error only: no std/os modules, so a
// script can reach nothing but its own stdout/stderr.
//
//   qjs [--memory-limit BYTES] [--stack-size BYTES] [-e CODE | FILE | -]
//
// Evaluates CODE, FILE, or stdin (the default, and the only source that needs no preopened
// directory), runs pending jobs (promises) to completion, and exits 0. An uncaught exception or an
// unhandled promise rejection is printed to stderr and the exit code is 1.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "quickjs.h"

// Below the guest's linear-memory cap, so QuickJS raises a catchable "out of memory" first.
#define DEFAULT_MEMORY_LIMIT (64u * 1024 * 1024)
// Below the 1 MiB shadow stack the guest is linked with (-z stack-size), so deep recursion is a
// RangeError in JavaScript instead of a stack-overflow trap.
#define DEFAULT_STACK_SIZE (512u * 1024)

// Rejections still without a handler once all jobs have run. A handler may be attached after the
// rejection (is_handled arrives later), so the verdict waits until the job queue is empty.
#define MAX_TRACKED 64
static JSValue tracked_promise[MAX_TRACKED], tracked_reason[MAX_TRACKED];
static int tracked_count, untracked_rejections;

static void print_value(JSContext *ctx, FILE *f, JSValueConst v) {
  const char *s = JS_ToCString(ctx, v);
  fputs(s ? s : "<unprintable>", f);
  JS_FreeCString(ctx, s);
}

static JSValue write_args(JSContext *ctx, FILE *f, int argc, JSValueConst *argv) {
  for (int i = 0; i < argc; i++) {
    if (i) fputc(' ', f);
    print_value(ctx, f, argv[i]);
  }
  fputc('\n', f);
  fflush(f);
  return JS_UNDEFINED;
}

static JSValue js_print(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  return write_args(ctx, stdout, argc, argv);
}

static JSValue js_print_err(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
  return write_args(ctx, stderr, argc, argv);
}

static void report_exception(JSContext *ctx, JSValueConst exc) {
  print_value(ctx, stderr, exc);
  fputc('\n', stderr);
  if (JS_IsError(ctx, exc)) {
    JSValue stack = JS_GetPropertyStr(ctx, exc, "stack");
    if (!JS_IsUndefined(stack)) print_value(ctx, stderr, stack);
    JS_FreeValue(ctx, stack);
  }
  fflush(stderr);
}

static void report_pending_exception(JSContext *ctx) {
  JSValue exc = JS_GetException(ctx);
  report_exception(ctx, exc);
  JS_FreeValue(ctx, exc);
}

static void rejection_tracker(JSContext *ctx, JSValueConst promise, JSValueConst reason,
                              JS_BOOL is_handled, void *opaque) {
  if (is_handled) {
    for (int i = 0; i < tracked_count; i++) {
      if (JS_VALUE_GET_PTR(tracked_promise[i]) != JS_VALUE_GET_PTR(promise)) continue;
      JS_FreeValue(ctx, tracked_promise[i]);
      JS_FreeValue(ctx, tracked_reason[i]);
      tracked_count--;
      tracked_promise[i] = tracked_promise[tracked_count];
      tracked_reason[i] = tracked_reason[tracked_count];
      return;
    }
    return;
  }
  if (tracked_count == MAX_TRACKED) { untracked_rejections++; return; }
  tracked_promise[tracked_count] = JS_DupValue(ctx, promise);
  tracked_reason[tracked_count] = JS_DupValue(ctx, reason);
  tracked_count++;
}

static char *read_all(FILE *f, size_t *len) {
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  for (;;) {
    if (n + 1 >= cap) {
      char *grown = realloc(buf, cap *= 2);
      if (!grown) { free(buf); return NULL; }
      buf = grown;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    if (got == 0) break;
    n += got;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  size_t memory_limit = DEFAULT_MEMORY_LIMIT, stack_size = DEFAULT_STACK_SIZE;
  const char *code = NULL, *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--memory-limit") && i + 1 < argc) memory_limit = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--stack-size") && i + 1 < argc) stack_size = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "-e") && i + 1 < argc) code = argv[++i];
    else path = argv[i];
  }

  size_t len = 0;
  char *source = NULL;
  const char *name = "<stdin>";
  if (code) {
    len = strlen(code);
    name = "<cmdline>";
  } else {
    FILE *f = stdin;
    if (path && strcmp(path, "-")) {
      f = fopen(path, "rb");
      if (!f) { perror(path); return 2; }
      name = path;
    }
    source = read_all(f, &len);
    if (f != stdin) fclose(f);
    if (!source) { fputs("out of memory reading the script\n", stderr); return 2; }
    code = source;
  }

  JSRuntime *rt = JS_NewRuntime();
  if (!rt) { fputs("cannot create the runtime\n", stderr); return 2; }
  JS_SetMemoryLimit(rt, memory_limit);
  JS_SetMaxStackSize(rt, stack_size);
  JS_SetHostPromiseRejectionTracker(rt, rejection_tracker, NULL);
  JSContext *ctx = JS_NewContext(rt);
  if (!ctx) { fputs("cannot create the context\n", stderr); return 2; }

  JSValue global = JS_GetGlobalObject(ctx);
  JS_SetPropertyStr(ctx, global, "print", JS_NewCFunction(ctx, js_print, "print", 1));
  JSValue console = JS_NewObject(ctx);
  JS_SetPropertyStr(ctx, console, "log", JS_NewCFunction(ctx, js_print, "log", 1));
  JS_SetPropertyStr(ctx, console, "info", JS_NewCFunction(ctx, js_print, "info", 1));
  JS_SetPropertyStr(ctx, console, "error", JS_NewCFunction(ctx, js_print_err, "error", 1));
  JS_SetPropertyStr(ctx, console, "warn", JS_NewCFunction(ctx, js_print_err, "warn", 1));
  JS_SetPropertyStr(ctx, global, "console", console);
  JS_FreeValue(ctx, global);

  int status = 0;
  JSValue result = JS_Eval(ctx, code, len, name, JS_EVAL_TYPE_GLOBAL);
  if (JS_IsException(result)) {
    report_pending_exception(ctx);
    status = 1;
  }
  JS_FreeValue(ctx, result);

  // Promise reactions and async functions run here; a job that throws ends the run.
  while (status == 0) {
    JSContext *job_ctx;
    int r = JS_ExecutePendingJob(rt, &job_ctx);
    if (r == 0) break;
    if (r < 0) { report_pending_exception(job_ctx); status = 1; }
  }
  for (int i = 0; i < tracked_count; i++) {
    fputs("Uncaught (in promise) ", stderr);
    report_exception(ctx, tracked_reason[i]);
  }
  if (tracked_count || untracked_rejections) status = 1;

  fflush(stdout);
  // Skip JS_FreeContext/JS_FreeRuntime: the process ends here, and freeing a large heap only
  // costs guest instructions (fuel) for nothing.
  free(source);
  return status;
}
