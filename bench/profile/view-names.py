#!/usr/bin/env python3
"""Names the inlined Yew views of a wasm kept with names (`wasm-opt -Oz -g`, then `wasm-dis`).

With opt-level "z" + LTO each function component's body is inlined into
`<CompStateInner<COMP> as Stateful>::view::h…`, so twiggy shows a hash, not a component. This
reads the disassembly and names each such function after the `frontend::components::<module>`
items it calls most (closures, helpers), which is where its html! came from.

    python3 bench/profile/view-names.py oz-g.wat   # prints hash -> module guesses
"""
import collections, re, sys

funcs = {}
cur = None
head = re.compile(r'^ \(func \$"?(.*?)"? \(')
call = re.compile(r'\((?:call|ref\.func) \$"?([^" )]+(?:[^")]*?))"?\)?')
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    if line.startswith(' (func '):
        m = head.match(line)
        cur = m.group(1) if m else None
        if cur:
            funcs[cur] = collections.Counter()
        continue
    if cur and ('call $' in line or 'ref.func $' in line):
        m = re.search(r'(?:call|ref\.func) \$"?([^"\n]+?)"?\)*\s*$', line.strip())
        if m:
            name = m.group(1)
            mm = re.match(r'(?:<)?frontend::(?:components::)?([a-z_]+)', name) or re.search(r'frontend::components::([a-z_]+)', name)
            if mm:
                funcs[cur][mm.group(1)] += 1
for name, c in funcs.items():
    if 'Stateful>::view::' in name:
        print(name.rsplit('::', 1)[1], c.most_common(4))
