// A branchy interpreter loop: `bytecode N` runs a small stack-machine program (a switch over opcodes
// that sums a Collatz-like sequence) N times; the benchmark kernel is the dispatch switch and its
// unpredictable branches. Prints the accumulated result.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, AND, SHR, JZ, JMP, DUP, DROP, HALT };

// r0 = counter, r1 = x, r2 = acc. while (r0) { if (x & 1) x = 3x + 1 else x >>= 1; acc += x; r0-- }
static const int32_t program[] = {
  /* 0 */ LOAD, 0, JZ, 46,
  /* 4 */ LOAD, 1, PUSH, 1, AND, JZ, 23,
  /* 11 */ LOAD, 1, PUSH, 3, MUL, PUSH, 1, ADD, STORE, 1, JMP, 30,
  /* 23 */ LOAD, 1, PUSH, 1, SHR, STORE, 1,
  /* 30 */ LOAD, 2, LOAD, 1, ADD, STORE, 2,
  /* 37 */ LOAD, 0, PUSH, 1, SUB, STORE, 0, JMP, 0,
  /* 46 */ HALT,
};

static int64_t run(int64_t count, int64_t x) {
  int64_t stack[16], reg[4] = {count, x, 0, 0};
  int sp = 0, pc = 0;
  for (;;) {
    int32_t op = program[pc++];
    switch (op) {
    case PUSH: stack[sp++] = program[pc++]; break;
    case LOAD: stack[sp++] = reg[program[pc++]]; break;
    case STORE: reg[program[pc++]] = stack[--sp]; break;
    case ADD: sp--; stack[sp - 1] += stack[sp]; break;
    case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
    case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
    case AND: sp--; stack[sp - 1] &= stack[sp]; break;
    case SHR: sp--; stack[sp - 1] >>= stack[sp]; break;
    case JZ: { int32_t target = program[pc++]; if (stack[--sp] == 0) pc = target; break; }
    case JMP: pc = program[pc]; break;
    case DUP: stack[sp] = stack[sp - 1]; sp++; break;
    case DROP: sp--; break;
    case HALT: return reg[2];
    default: return -1;
    }
  }
}

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
  int64_t total = 0;
  for (long i = 0; i < n; i++) total += run(200, 27 + i % 1000);
  printf("bytecode %lld\n", (long long)total);
  return 0;
}
