#!/usr/bin/env python3
"""Rewrites kernels/*.cu for the host emulator (emu.h): `k<<<grid, block, shmem, stream>>>(args)`
becomes `wk_emu_launch(k, grid, block, args)`, and the includes point at the emulated copies.
usage: rewrite.py KERNELS_DIR OUT_DIR"""
import os
import sys

src, out_dir = sys.argv[1], sys.argv[2]
for name in ['binary.cu', 'unary.cu', 'reduce.cu', 'index.cu', 'random.cu', 'cumulative.cu', 'ew.cuh']:
    s = open(os.path.join(src, name)).read()
    out, i = [], 0
    while True:
        j = s.find('<<<', i)
        if j < 0:
            out.append(s[i:])
            break
        ls = s.rfind('\n', 0, j) + 1  # launches start their line
        pre = s[ls:j]
        indent = pre[:len(pre) - len(pre.lstrip())]
        k = s.find('>>>(', j)
        parts, depth, cur = [], 0, ''
        for ch in s[j + 3:k]:  # split the launch configuration at top-level commas
            depth += ch == '('
            depth -= ch == ')'
            if ch == ',' and depth == 0:
                parts.append(cur)
                cur = ''
            else:
                cur += ch
        parts.append(cur)
        out.append(s[i:ls])
        out.append('%swk_emu_launch(%s, %s, %s, ' % (indent, pre.strip(), parts[0].strip(), parts[1].strip()))
        i = k + 4
    t = '#include "emu.h"\n' + ''.join(out)
    t = t.replace('#include "common.cuh"', '#include "%s"' % os.path.join(src, 'common.cuh'))
    t = t.replace('#include "ew.cuh"', '#include "emu_ew.cuh"')
    dst = 'emu_ew.cuh' if name == 'ew.cuh' else name.replace('.cu', '.cpp')
    open(os.path.join(out_dir, dst), 'w').write(t)
