#!/usr/bin/env python3
"""Generates the table-driven arms of the interpreter's dispatch switch (Interpreter.Run.cs).

Interpreter.Run.g.cs is generated whole: the hand-written parts of the method (entry, control flow, calls,
the arms the tables cannot express) are in Interpreter.Run.template, and the arms below replace its
'<generated arms>' line. Edit the template or a table, never the .g.cs, then run from anywhere:
    python3 generate_dispatch.py           # rewrites Interpreter.Run.g.cs
    python3 generate_dispatch.py --check   # exit 1 if Interpreter.Run.g.cs differs from what this generates (CI)
Families (opcode bases must match OpCode.cs): plain numeric ops keep their WebAssembly byte value;
0x100.. second operand immediate; 0x145.. second operand a local (and loads from a local address);
0x1A8.. both operands locals; 0x1ED.. result to a local; 0x232.. local op immediate to a local;
0x265..0x28C br_if on i32 comparisons; 0x28D.. local op local to a local; 0x2C0..0x358 the
local.tee variants; 0x359..0x361 stores of a local to the address in a local. Integer division checks are written inline (see inline_division).
"""
import os, re, sys

# Generates Interpreter.Run.cs numeric arms.
I32,I64,F32,F64='i32','i64','f32','f64'
def rd(t, e):
    return {'i32':f'(int){e}','u32':f'(uint){e}','i64':f'(long){e}','u64':e,
            'f32':f'BitConverter.UInt32BitsToSingle((uint){e})','f64':f'BitConverter.UInt64BitsToDouble({e})'}[t]
def wr(t, e):
    return {'i32':f'(uint)({e})','i64':f'(ulong)({e})','f32':f'BitConverter.SingleToUInt32Bits({e})',
            'f64':f'BitConverter.DoubleToUInt64Bits({e})','b':f'({e} ? 1UL : 0UL)'}[t]
ops = {}
def un(op, name, ta, tr, expr): ops[op]=('u',name,ta,None,tr,expr)
def bi(op, name, ta, tb, tr, expr): ops[op]=('b',name,ta,tb,tr,expr)
un(0x45,'i32.eqz','u32','b','a == 0')
for i,(n,e,t) in enumerate([('eq','a == b','u32'),('ne','a != b','u32'),('lt_s','a < b','i32'),('lt_u','a < b','u32'),('gt_s','a > b','i32'),('gt_u','a > b','u32'),('le_s','a <= b','i32'),('le_u','a <= b','u32'),('ge_s','a >= b','i32'),('ge_u','a >= b','u32')]):
    bi(0x46+i,'i32.'+n,t,t,'b',e)
un(0x50,'i64.eqz','u64','b','a == 0')
for i,(n,e,t) in enumerate([('eq','a == b','u64'),('ne','a != b','u64'),('lt_s','a < b','i64'),('lt_u','a < b','u64'),('gt_s','a > b','i64'),('gt_u','a > b','u64'),('le_s','a <= b','i64'),('le_u','a <= b','u64'),('ge_s','a >= b','i64'),('ge_u','a >= b','u64')]):
    bi(0x51+i,'i64.'+n,t,t,'b',e)
for base,t in ((0x5B,'f32'),(0x61,'f64')):
    for i,(n,e) in enumerate([('eq','a == b'),('ne','a != b'),('lt','a < b'),('gt','a > b'),('le','a <= b'),('ge','a >= b')]):
        bi(base+i,t+'.'+n,t,t,'b',e)
un(0x67,'i32.clz','u32','i32','BitOperations.LeadingZeroCount(a)')
un(0x68,'i32.ctz','u32','i32','BitOperations.TrailingZeroCount(a)')
un(0x69,'i32.popcnt','u32','i32','BitOperations.PopCount(a)')
for i,(n,e,t) in enumerate([('add','a + b','u32'),('sub','a - b','u32'),('mul','a * b','u32'),('div_s','NumericOps.DivS(a, b)','i32'),('div_u','NumericOps.DivU(a, b)','u32'),('rem_s','NumericOps.RemS(a, b)','i32'),('rem_u','NumericOps.RemU(a, b)','u32'),('and','a & b','u32'),('or','a | b','u32'),('xor','a ^ b','u32'),('shl','a << (int)b','u32'),('shr_s','a >> (int)b','i32'),('shr_u','a >> (int)b','u32'),('rotl','BitOperations.RotateLeft(a, (int)b)','u32'),('rotr','BitOperations.RotateRight(a, (int)b)','u32')]):
    bi(0x6A+i,'i32.'+n,t,t,'i32',e)
un(0x79,'i64.clz','u64','i64','(long)BitOperations.LeadingZeroCount(a)')
un(0x7A,'i64.ctz','u64','i64','(long)BitOperations.TrailingZeroCount(a)')
un(0x7B,'i64.popcnt','u64','i64','(long)BitOperations.PopCount(a)')
for i,(n,e,t) in enumerate([('add','a + b','u64'),('sub','a - b','u64'),('mul','a * b','u64'),('div_s','NumericOps.DivS(a, b)','i64'),('div_u','NumericOps.DivU(a, b)','u64'),('rem_s','NumericOps.RemS(a, b)','i64'),('rem_u','NumericOps.RemU(a, b)','u64'),('and','a & b','u64'),('or','a | b','u64'),('xor','a ^ b','u64'),('shl','a << (int)b','u64'),('shr_s','a >> (int)b','i64'),('shr_u','a >> (int)b','u64'),('rotl','BitOperations.RotateLeft(a, (int)b)','u64'),('rotr','BitOperations.RotateRight(a, (int)b)','u64')]):
    bi(0x7C+i,'i64.'+n,t,t,'i64',e)
# float unary: abs, neg via bits handled specially
for base,t,M in ((0x8B,'f32','MathF'),(0x99,'f64','Math')):
    ops[base]=('raw',t+'.abs', 'f32' if t=='f32' else 'f64')
    ops[base+1]=('raw',t+'.neg', t)
    un(base+2,t+'.ceil',t,t,f'{M}.Ceiling(a)')
    un(base+3,t+'.floor',t,t,f'{M}.Floor(a)')
    un(base+4,t+'.trunc',t,t,f'{M}.Truncate(a)')
    un(base+5,t+'.nearest',t,t,f'{M}.Round(a, MidpointRounding.ToEven)')
    un(base+6,t+'.sqrt',t,t,f'{M}.Sqrt(a)')
    for i,(n,e) in enumerate([('add','a + b'),('sub','a - b'),('mul','a * b'),('div','a / b'),('min','NumericOps.Min(a, b)'),('max','NumericOps.Max(a, b)')]):
        bi(base+7+i,t+'.'+n,t,t,t,e)
    ops[base+13]=('raw',t+'.copysign',t)
un(0xA7,'i32.wrap_i64','u64','i32','(uint)a')
un(0xA8,'i32.trunc_f32_s','f32','i32','NumericOps.TruncI32(a)')
un(0xA9,'i32.trunc_f32_u','f32','i32','NumericOps.TruncU32(a)')
un(0xAA,'i32.trunc_f64_s','f64','i32','NumericOps.TruncI32(a)')
un(0xAB,'i32.trunc_f64_u','f64','i32','NumericOps.TruncU32(a)')
un(0xAC,'i64.extend_i32_s','i32','i64','(long)a')
un(0xAD,'i64.extend_i32_u','u32','i64','(ulong)a')
un(0xAE,'i64.trunc_f32_s','f32','i64','NumericOps.TruncI64(a)')
un(0xAF,'i64.trunc_f32_u','f32','i64','NumericOps.TruncU64(a)')
un(0xB0,'i64.trunc_f64_s','f64','i64','NumericOps.TruncI64(a)')
un(0xB1,'i64.trunc_f64_u','f64','i64','NumericOps.TruncU64(a)')
un(0xB2,'f32.convert_i32_s','i32','f32','(float)a')
un(0xB3,'f32.convert_i32_u','u32','f32','(float)a')
un(0xB4,'f32.convert_i64_s','i64','f32','NumericOps.I64ToF32(a)')
un(0xB5,'f32.convert_i64_u','u64','f32','NumericOps.U64ToF32Exact(a)')
un(0xB6,'f32.demote_f64','f64','f32','(float)a')
un(0xB7,'f64.convert_i32_s','i32','f64','(double)a')
un(0xB8,'f64.convert_i32_u','u32','f64','(double)a')
un(0xB9,'f64.convert_i64_s','i64','f64','(double)a')
un(0xBA,'f64.convert_i64_u','u64','f64','NumericOps.U64ToF64(a)')
un(0xBB,'f64.promote_f32','f32','f64','(double)a')
for op,n in ((0xBC,'i32.reinterpret_f32'),(0xBD,'i64.reinterpret_f64'),(0xBE,'f32.reinterpret_i32'),(0xBF,'f64.reinterpret_i64')):
    ops[op]=('nop',n)
un(0xC0,'i32.extend8_s','i32','i32','(sbyte)a')
un(0xC1,'i32.extend16_s','i32','i32','(short)a')
un(0xC2,'i64.extend8_s','i64','i64','(long)(sbyte)a')
un(0xC3,'i64.extend16_s','i64','i64','(long)(short)a')
un(0xC4,'i64.extend32_s','i64','i64','(long)(int)a')
# sat
sat=[('i32.trunc_sat_f32_s','f32','i32','NumericOps.TruncI32(a, trap: false)'),('i32.trunc_sat_f32_u','f32','i32','NumericOps.TruncU32(a, trap: false)'),
     ('i32.trunc_sat_f64_s','f64','i32','NumericOps.TruncI32(a, trap: false)'),('i32.trunc_sat_f64_u','f64','i32','NumericOps.TruncU32(a, trap: false)'),
     ('i64.trunc_sat_f32_s','f32','i64','NumericOps.TruncI64(a, trap: false)'),('i64.trunc_sat_f32_u','f32','i64','NumericOps.TruncU64(a, trap: false)'),
     ('i64.trunc_sat_f64_s','f64','i64','NumericOps.TruncI64(a, trap: false)'),('i64.trunc_sat_f64_u','f64','i64','NumericOps.TruncU64(a, trap: false)')]
for i,(n,ta,tr,e) in enumerate(sat): un(0xE0+i,n,ta,tr,e)

out=[]
ind='                '
for op in sorted(ops):
    d=ops[op]
    kind=d[0]
    if kind=='nop':
        out.append(f'{ind}case 0x{op:02X}: // {d[1]}: bits are already in the slot\n{ind}    break;')
        continue
    if kind=='raw':
        n=d[1]; t=d[2]
        sign = '0x8000_0000UL' if t=='f32' else '0x8000_0000_0000_0000UL'
        if n.endswith('abs'):
            body=f's[sp - 1] &= ~{sign};' if t=='f64' else f's[sp - 1] = (uint)s[sp - 1] & 0x7FFF_FFFFU;'
        elif n.endswith('neg'):
            body=f's[sp - 1] ^= {sign};' if t=='f64' else f's[sp - 1] = (uint)s[sp - 1] ^ 0x8000_0000U;'
        else:
            if t=='f32':
                body='sp--;\n'+ind+'    s[sp - 1] = ((uint)s[sp - 1] & 0x7FFF_FFFFU) | ((uint)s[sp] & 0x8000_0000U);'
            else:
                body='sp--;\n'+ind+'    s[sp - 1] = (s[sp - 1] & 0x7FFF_FFFF_FFFF_FFFFUL) | (s[sp] & 0x8000_0000_0000_0000UL);'
        out.append(f'{ind}case 0x{op:02X}: // {n}\n{ind}    {body}\n{ind}    break;')
        continue
    _,n,ta,tb,tr,e=d
    if kind=='u':
        out.append(f'{ind}case 0x{op:02X}: // {n}\n{ind}{{\n{ind}    var a = {rd(ta,"s[sp - 1]")};\n{ind}    s[sp - 1] = {wr(tr,e)};\n{ind}    break;\n{ind}}}\n')
    else:
        out.append(f'{ind}case 0x{op:02X}: // {n}\n{ind}{{\n{ind}    var b = {rd(tb,"s[sp - 1]")};\n{ind}    var a = {rd(ta,"s[sp - 2]")};\n{ind}    s[sp - 2] = {wr(tr,e)};\n{ind}    sp--;\n{ind}    break;\n{ind}}}\n')

# Fused variants of integer binary ops (see OpCode.FusedImmediate etc.).
fused=[]
int_bin=[op for op in sorted(ops) if ops[op][0]=='b' and ops[op][2] in ('i32','u32','i64','u64')]
def arm(code, name, a_src, b_src, write_at, sp_delta):
    _,n,ta,tb,tr,e=ops[name]
    lines=[f'{ind}case 0x{code:03X}: // {n} ({a_src} op {b_src})', f'{ind}{{',
           f'{ind}    var b = {rd(tb, b_src)};', f'{ind}    var a = {rd(ta, a_src)};',
           f'{ind}    s[{write_at}] = {wr(tr, e)};']
    if sp_delta: lines.append(f'{ind}    sp++;')
    lines += [f'{ind}    break;', f'{ind}}}', '']
    return '\n'.join(lines)
for op in int_bin:
    fused.append(arm(0x100 - 0x46 + op, op, 's[sp - 1]', '(ulong)ins.B', 'sp - 1', 0))
for op in int_bin:
    fused.append(arm(0x145 - 0x28 + op, op, 's[sp - 1]', 's[fp + ins.A]', 'sp - 1', 0))
for op in int_bin:
    fused.append(arm(0x1A8 - 0x46 + op, op, 's[fp + ins.A]', 's[fp + (int)ins.B]', 'sp', 1))

# Second round of fusions.
more=[]
i32_bin=[op for op in int_bin if 0x46 <= op <= 0x4F or 0x6A <= op <= 0x78]
i32_cmp=[op for op in i32_bin if op <= 0x4F]
def arm2(code, op, a_src, b_src, target, pre='', post=''):
    _,n,ta,tb,tr,e=ops[op]
    lines=[f'{ind}case 0x{code:03X}: // {n} ({a_src} op {b_src}) -> {target}', f'{ind}{{',
           f'{ind}    var b = {rd(tb, b_src)};', f'{ind}    var a = {rd(ta, a_src)};',
           f'{ind}    {target} = {wr(tr, e)};']
    if post: lines.append(f'{ind}    {post}')
    lines += [f'{ind}    break;', f'{ind}}}', '']
    return '\n'.join(lines)
def cmpbr(code, op, a_src, b_src, pre=''):
    _,n,ta,tb,tr,e=ops[op]
    lines=[f'{ind}case 0x{code:03X}: // br_if ({n} {a_src} {b_src})', f'{ind}{{']
    if pre: lines.append(f'{ind}    {pre}')
    lines += [f'{ind}    var b = {rd(tb, b_src)};', f'{ind}    var a = {rd(ta, a_src)};',
              f'{ind}    if ({e})', f'{ind}    {{', f'{ind}        pc = ins.A;', f'{ind}    }}', '', f'{ind}    break;', f'{ind}}}', '']
    return '\n'.join(lines)
for op in int_bin:   # 0x4xx: stack operands, result to local A
    more.append(arm2(0x1ED - 0x46 + op, op, 's[sp - 2]', 's[sp - 1]', 's[fp + ins.A]', post='sp -= 2;'))
for op in i32_bin:   # 0x5xx: local (int)B op immediate (B >> 32), result to local A
    more.append(arm2(0x232 - 0x46 + op, op, 's[fp + (int)ins.B]', '(ulong)(ins.B >> 32)', 's[fp + ins.A]'))
for op in i32_bin:   # 0xAxx: local (int)B op local (B >> 32), result to local A
    more.append(arm2(0x28D - 0x46 + op, op, 's[fp + (int)ins.B]', 's[fp + (int)(ins.B >> 32)]', 's[fp + ins.A]'))
for op in i32_cmp:   # 0x6xx: br_if on compare of two stack operands
    more.append(cmpbr(0x265 - 0x46 + op, op, 's[sp]', 's[sp + 1]', pre='sp -= 2;'))
for op in i32_cmp:   # 0x7xx: br_if on compare of local (int)B and local (B >> 32)
    more.append(cmpbr(0x26F - 0x46 + op, op, 's[fp + (int)ins.B]', 's[fp + (int)(ins.B >> 32)]'))
for op in i32_cmp:   # 0x8xx: br_if on compare of local (int)B and immediate (B >> 32)
    more.append(cmpbr(0x279 - 0x46 + op, op, 's[fp + (int)ins.B]', '(ulong)(ins.B >> 32)'))
for op in i32_cmp:   # 0x9xx: br_if on compare of stack operand and immediate B
    more.append(cmpbr(0x283 - 0x46 + op, op, 's[sp]', '(ulong)ins.B', pre='sp--;'))
# loads with the base address in local A
loads={0x28:(4,'BinaryPrimitives.ReadUInt32LittleEndian(mem.AsSpan((int)ea))'),0x29:(8,'BinaryPrimitives.ReadUInt64LittleEndian(mem.AsSpan((int)ea))'),
       0x2A:(4,'BinaryPrimitives.ReadUInt32LittleEndian(mem.AsSpan((int)ea))'),0x2B:(8,'BinaryPrimitives.ReadUInt64LittleEndian(mem.AsSpan((int)ea))'),
       0x2C:(1,'(uint)(sbyte)mem[ea]'),0x2D:(1,'mem[ea]'),0x2E:(2,'(uint)BinaryPrimitives.ReadInt16LittleEndian(mem.AsSpan((int)ea))'),
       0x2F:(2,'BinaryPrimitives.ReadUInt16LittleEndian(mem.AsSpan((int)ea))'),0x30:(1,'(ulong)(long)(sbyte)mem[ea]'),0x31:(1,'mem[ea]'),
       0x32:(2,'(ulong)(long)BinaryPrimitives.ReadInt16LittleEndian(mem.AsSpan((int)ea))'),0x33:(2,'BinaryPrimitives.ReadUInt16LittleEndian(mem.AsSpan((int)ea))'),
       0x34:(4,'(ulong)(long)BinaryPrimitives.ReadInt32LittleEndian(mem.AsSpan((int)ea))'),0x35:(4,'BinaryPrimitives.ReadUInt32LittleEndian(mem.AsSpan((int)ea))')}
for op,(size,expr) in sorted(loads.items()):
    more.append('\n'.join([f'{ind}case 0x{0x145 - 0x28 + op:03X}: // load 0x{op:02X} from address in local A', f'{ind}{{',
        f'{ind}    var ea = (uint)s[fp + ins.A] + (ulong)ins.B;', f'{ind}    if (ea + {size} > memLength)', f'{ind}    {{', f'{ind}        ThrowOutOfBounds();', f'{ind}    }}', '',
        f'{ind}    s[sp++] = {expr};', f'{ind}    break;', f'{ind}}}', '']))

# Loads and stores without calls: the dispatch method is too big for the JIT's inline budget, so
# BinaryPrimitives/AsSpan would stay calls. Bytes are composed explicitly (little-endian by spec).
def compose(size, idx='i'):
    if size == 1: return f'(uint)mem[{idx}]'
    parts=[f'(uint)mem[{idx}]']+[f'((uint)mem[{idx} + {k}] << {8*k})' for k in range(1,size)]
    return '(' + ' | '.join(parts) + ')'
load_expr={0x28:(4,'{c4}'),0x29:(8,'{c8}'),0x2A:(4,'{c4}'),0x2B:(8,'{c8}'),0x2C:(1,'(uint)(sbyte)mem[i]'),0x2D:(1,'mem[i]'),
  0x2E:(2,'(uint)(short){c2}'),0x2F:(2,'{c2}'),0x30:(1,'(ulong)(long)(sbyte)mem[i]'),0x31:(1,'mem[i]'),0x32:(2,'(ulong)(long)(short){c2}'),
  0x33:(2,'{c2}'),0x34:(4,'(ulong)(long)(int){c4}'),0x35:(4,'{c4}')}
names={0x28:'i32.load',0x29:'i64.load',0x2A:'f32.load',0x2B:'f64.load',0x2C:'i32.load8_s',0x2D:'i32.load8_u',0x2E:'i32.load16_s',0x2F:'i32.load16_u',
 0x30:'i64.load8_s',0x31:'i64.load8_u',0x32:'i64.load16_s',0x33:'i64.load16_u',0x34:'i64.load32_s',0x35:'i64.load32_u'}
def lexpr(op):
    size,e=load_expr[op]
    return e.format(c4=compose(4),c2=compose(2),c8=f'({compose(4)} | ((ulong){compose(4).replace("[i", "[i + 4").replace("[i + 4 + ", "[i + 4 + ")} << 32))')
def c8fix(e):
    return e
ls=[]
def load_case(code, op, base, push):
    size=load_expr[op][0]
    target = 's[sp++]' if push else 's[sp - 1]'
    return '\n'.join([f'{ind}case 0x{code:03X}: // {names[op]}' + (' (address in local A)' if push else ''), f'{ind}{{',
        f'{ind}    var ea = (uint){base} + (ulong)ins.B;', f'{ind}    if (ea + {size} > memLength)', f'{ind}    {{', f'{ind}        ThrowOutOfBounds();', f'{ind}    }}', '',
        f'{ind}    var i = (int)ea;', f'{ind}    {target} = {lexpr(op)};', f'{ind}    break;', f'{ind}}}', ''])
for op in sorted(load_expr): ls.append(load_case(op, op, 's[sp - 1]', False))
stores=[((0x36,0x38,0x3E),4,'i32.store / f32.store / i64.store32'),((0x37,0x39),8,'i64.store / f64.store'),((0x3A,0x3C),1,'i32.store8 / i64.store8'),((0x3B,0x3D),2,'i32.store16 / i64.store16')]
for codes,size,n in stores:
    lines=[f'{ind}case 0x{c:02X}:' for c in codes[:-1]]+[f'{ind}case 0x{codes[-1]:02X}: // {n}', f'{ind}{{',
        f'{ind}    var ea = (uint)s[sp - 2] + (ulong)ins.B;', f'{ind}    if (ea + {size} > memLength)', f'{ind}    {{', f'{ind}        ThrowOutOfBounds();', f'{ind}    }}', '',
        f'{ind}    var i = (int)ea;', f'{ind}    var v = s[sp - 1];']
    for k in range(size):
        lines.append(f'{ind}    mem[i{" + " + str(k) if k else ""}] = (byte){"(v >> " + str(8*k) + ")" if k else "v"};')
    lines += [f'{ind}    sp -= 2;', f'{ind}    break;', f'{ind}}}', '']
    ls.append('\n'.join(lines))
# replace fused loads in more.txt
more2=[m for m in more if '(address in local A)' not in m and 'from address in local A' not in m]
for op in sorted(load_expr): more2.append(load_case(0x145 - 0x28 + op, op, 's[fp + ins.A]', True))

# Third round: the same i32 ops fused with local.tee (clang uses tee for nearly every address and hash step).
tee=[]
def arm_tee(code, op, a_src, b_src, target_slot, sp_adjust_before, push):
    _,n,ta,tb,tr,e=ops[op]
    lines=[f'{ind}case 0x{code:03X}: // {n} ({a_src} op {b_src}) -> local A, kept on the stack', f'{ind}{{']
    if sp_adjust_before: lines.append(f'{ind}    {sp_adjust_before}')
    lines += [f'{ind}    var b = {rd(tb, b_src)};', f'{ind}    var a = {rd(ta, a_src)};',
              f'{ind}    var r = {wr(tr, e)};', f'{ind}    s[fp + ins.A] = r;', f'{ind}    {push};', f'{ind}    break;', f'{ind}}}', '']
    return '\n'.join(lines)
for op in i32_bin:   # stack op stack -> tee
    tee.append(arm_tee(0x2C0 - 0x46 + op, op, 's[sp - 1]', 's[sp]', None, 'sp--;', 's[sp - 1] = r'))
for op in i32_bin:   # stack op immediate B -> tee
    tee.append(arm_tee(0x2F3 - 0x46 + op, op, 's[sp - 1]', '(ulong)ins.B', None, '', 's[sp - 1] = r'))
for op in i32_bin:   # local (int)B op immediate (B >> 32) -> tee
    tee.append(arm_tee(0x326 - 0x46 + op, op, 's[fp + (int)ins.B]', '(ulong)(ins.B >> 32)', None, '', 's[sp++] = r'))

def inline_division(text):
    """NumericOps helpers are not inlined into the dispatch method (inline budget): write the checks out."""
    lines=text.split('\n')
    out=[]
    for l in lines:
        m=re.search(r'NumericOps\.(DivS|DivU|RemS|RemU)\(a, b\)', l)
        if m:
            ind=re.match(r'\s*', l).group(0)
            kind=m.group(1)
            back='\n'.join(out[-4:])
            is64 = '(long)' in back or 'var a = s[' in back or 'var a = (ulong)' in back
            out += [f'{ind}if (b == 0)', f'{ind}{{', f'{ind}    Throw(WasmTrapKind.IntegerDivideByZero);', f'{ind}}}', '']
            if kind=='DivS':
                mn='long.MinValue' if is64 else 'int.MinValue'
                out += [f'{ind}if (b == -1 && a == {mn})', f'{ind}{{', f'{ind}    Throw(WasmTrapKind.IntegerOverflow);', f'{ind}}}', '']
                l=l.replace(m.group(0),'a / b')
            elif kind=='RemS':
                l=l.replace(m.group(0),'(b == -1 ? 0 : a % b)')
            elif kind=='DivU':
                l=l.replace(m.group(0),'a / b')
            else:
                l=l.replace(m.group(0),'a % b')
        out.append(l)
    return '\n'.join(out)


# Stores of a local to the address in a local (local.get a; local.get v; store): address local A,
# value local (int)B, offset in the upper half of B.
stores_ll=[]
for codes,size,n in stores:
    for c in codes:
        lines=[f'{ind}case 0x{0x359 - 0x36 + c:03X}: // store 0x{c:02X} ({n}) of local (int)B to the address in local A', f'{ind}{{',
            f'{ind}    var ea = (uint)s[fp + ins.A] + ((ulong)ins.B >> 32);', f'{ind}    if (ea + {size} > memLength)', f'{ind}    {{', f'{ind}        ThrowOutOfBounds();', f'{ind}    }}', '',
            f'{ind}    var i = (int)ea;', f'{ind}    var v = s[fp + (int)ins.B];']
        for k in range(size):
            lines.append(f'{ind}    mem[i{" + " + str(k) if k else ""}] = (byte){"(v >> " + str(8*k) + ")" if k else "v"};')
        lines += [f'{ind}    break;', f'{ind}}}', '']
        stores_ll.append('\n'.join(lines))
tee += stores_ll

generated = '\n'.join(ls) + '\n' + '\n'.join(out) + '\n\n' + '\n'.join(fused) + '\n\n' + '\n'.join(more2) + '\n\n' + '\n'.join(tee)
generated = inline_division(generated)
here = os.path.dirname(os.path.abspath(__file__))
template = open(os.path.join(here, 'Interpreter.Run.template')).read()
placeholder = '                // <generated arms>\n'
if template.count(placeholder) != 1:
    sys.exit("generate_dispatch.py: Interpreter.Run.template must hold the '<generated arms>' line exactly once")
header = ('// <auto-generated> by generate_dispatch.py from Interpreter.Run.template and its opcode tables:'
          ' do not edit by hand; edit those and rerun it. </auto-generated>\n')
begin = '                // <generated by generate_dispatch.py: do not edit by hand>\n'
end = '                // </generated>\n'
output = header + template.replace(placeholder, begin + generated.rstrip('\n') + '\n\n' + end)
target = os.path.join(here, 'Interpreter.Run.g.cs')
if '--check' in sys.argv[1:]:
    current = open(target).read() if os.path.exists(target) else ''
    if current != output:
        sys.exit('generate_dispatch.py: Interpreter.Run.g.cs is not what the generator makes; run python3 src/Sandbox.Wasm/Execution/generate_dispatch.py and commit the result')
    print('generate_dispatch.py: Interpreter.Run.g.cs is up to date')
else:
    open(target, 'w').write(output)
