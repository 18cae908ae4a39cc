#!/usr/bin/env python3
"""Groups a wasm's bytes by crate, from `twiggy top -n 100000 -f csv` of a build with names.

    twiggy top -n 100000 -f csv oz-g.wasm > top.csv
    python3 bench/profile/wasm-crates.py top.csv [view-names.txt]

Each function goes to the crate its name starts with (after `<` and `&mut`), with these rules:
- `<yew::…CompStateInner<COMP> as …Stateful>::view::h…` is one of OUR components (its html!
  inlined by opt-level z + LTO): "frontend views (html!, inlined into yew's view)";
- generic code of serde / serde_json instantiated for our types is "serde (ours, monomorphised)";
- data segments are "data (.rodata: strings, tables)"; the name section is left out.
Sizes are raw bytes of the wasm without its name section (the same code as the shipped file);
gzip shares are roughly proportional, not measured per group.
"""
import collections, csv, re, sys

rows = list(csv.DictReader(open(sys.argv[1])))
groups = collections.Counter()
counts = collections.Counter()
total = 0

def crate_of(name):
    if name.startswith('"function names"') or 'names" subsection' in name:
        return None
    if name.startswith('data segment'):
        return 'data (.rodata: strings, tables)'
    if 'CompStateInner<COMP> as yew::html::component::lifecycle::Stateful>::view' in name:
        return 'frontend views (html!, inlined into yew)'
    n = re.sub(r'\[[0-9a-f]{8,}\]', '', name)
    if 'drop_in_place' in n:
        return 'drop glue (drop_in_place::<T>, all crates)'
    n = n.lstrip('<&').replace('mut ', '').replace('dyn ', '')
    # `<T as serde::Deserialize>::…`, `<F as Trait>`: a generic parameter, name the trait's crate.
    m0 = re.match(r'^[A-Z][A-Za-z0-9]?\b.*? as ([A-Za-z_][A-Za-z0-9_]*)::', n)
    if m0:
        n = m0.group(1) + '::'
    if n.startswith('impl '):
        n = n[5:]
    m = re.match(r'([A-Za-z_][A-Za-z0-9_]*)(::|<| )', n)
    crate = m.group(1) if m else n.split(' ')[0]
    if crate in ('serde', 'serde_core', 'serde_derive'):
        crate = 'serde (core, derived impls)'
    if crate in ('core', 'alloc', 'std', 'hashbrown', 'dlmalloc', 'compiler_builtins', 'memchr'):
        crate = 'rust std (core/alloc/std/hashbrown/dlmalloc)'
    if crate in ('wasm_bindgen', 'js_sys', 'web_sys', 'wasm_bindgen_futures'):
        crate = 'wasm-bindgen / js-sys / web-sys'
    if crate.startswith('gloo'):
        crate = 'gloo'
    if crate.startswith('func') or crate.startswith('code') or re.match(r'^(table|elem|import|export|global|type|memory|custom)', crate):
        crate = 'wasm sections (tables, imports, exports, types)'
    if crate.startswith('__wbg') or crate.startswith('__wbindgen') or crate.startswith('__externref'):
        crate = 'wasm-bindgen / js-sys / web-sys'
    if crate == 'eda_core':
        crate = 'eda_core (our core)'
    if crate == 'frontend':
        crate = 'frontend (our app: hooks, runtime, closures)'
    if crate == 'broker_bridge':
        crate = 'broker_bridge (our MQTT client)'
    return crate

for r in rows:
    size = int(r['ShallowSize'])
    g = crate_of(r['Name'])
    if g is None:
        continue
    groups[g] += size
    counts[g] += 1
    total += size

print(f'| group | bytes (raw, no names) | share | items |')
print('|---|---:|---:|---:|')
for g, s in groups.most_common():
    print(f'| {g} | {s:,} | {100*s/total:.1f} % | {counts[g]} |')
print(f'| total | {total:,} | 100 % | {sum(counts.values())} |')
