#!/usr/bin/env python3
"""The renderer main thread's top-level tasks in a Chrome trace, by what they began with.

Usage: python3 bench/profile/main-tasks.py TRACE.json   (a trace from per-order.mjs --trace-out)

Prints, per kind (the task's first two trace events, e.g. "Receive mojo message" for a
WebSocket message, "HandlePostMessage" for a worker's postMessage, "TimerFire"), the number of
tasks, their total milliseconds and the mean microseconds per task; then, for the WebSocket
message tasks, how much of their time was script (v8.callFunction) and how much the rest.
"""
import bisect
import collections
import json
import sys

trace = json.load(open(sys.argv[1]))
events = trace['traceEvents'] if isinstance(trace, dict) else trace
mains = {(e['pid'], e['tid']) for e in events
         if e.get('ph') == 'M' and e.get('name') == 'thread_name' and e['args'].get('name') == 'CrRendererMain'}
busiest = collections.Counter((e.get('pid'), e.get('tid')) for e in events
                              if (e.get('pid'), e.get('tid')) in mains).most_common(1)[0][0]
spans = sorted((e for e in events if (e.get('pid'), e.get('tid')) == busiest and e.get('ph') == 'X'),
               key=lambda e: (e['ts'], -e.get('dur', 0)))
starts = [e['ts'] for e in spans]
top, end = [], -1
for e in spans:
    if e['name'] in ('ThreadControllerImpl::RunTask', 'RunTask') and e['ts'] >= end:
        top.append(e)
        end = e['ts'] + e.get('dur', 0)

count, micros = collections.Counter(), collections.Counter()
ws_tasks = ws_total = ws_script = 0
for task in top:
    first, script = [], 0
    j = bisect.bisect_left(starts, task['ts'])
    while j < len(spans) and spans[j]['ts'] <= task['ts'] + task['dur']:
        e = spans[j]
        if e is not task and e['name'] != 'ThreadControllerImpl::RunTask' and len(first) < 2:
            first.append(e['name'])
        if e['name'] == 'v8.callFunction':
            script += e['dur']
        j += 1
    kind = ' > '.join(first) or '(empty)'
    count[kind] += 1
    micros[kind] += task['dur']
    if first[:1] == ['Receive mojo message']:
        ws_tasks, ws_total, ws_script = ws_tasks + 1, ws_total + task['dur'], ws_script + script

print(f'{len(top)} top-level tasks, {sum(t["dur"] for t in top) / 1000:.1f} ms')
print('| tasks | ms | µs per task | began with |\n|---:|---:|---:|---|')
for kind, n in count.most_common(12):
    print(f'| {n} | {micros[kind] / 1000:.1f} | {micros[kind] / n:.1f} | {kind} |')
if ws_tasks:
    print(f'\n"Receive mojo message" tasks: {ws_tasks}, {ws_total / 1000:.1f} ms, of which script '
          f'{ws_script / 1000:.1f} ms and the rest {(ws_total - ws_script) / 1000:.1f} ms '
          f'({(ws_total - ws_script) / ws_tasks:.0f} µs per task)')
