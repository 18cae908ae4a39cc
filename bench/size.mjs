// What the page downloads: gzip -9 bytes of Trunk's release output, by kind (html, js, css,
// wasm) against issue 14's goal for the whole app, the in-page broker's worker files apart
// (fetched only with ?broker=inpage), and, when twiggy is on the PATH, where the wasm's bytes
// go by crate (bench/profile/wasm-crates.py). Run by bench/run.mjs (`--only size`).
//
//   const sizes = appSizes(appDir);                      // { kinds, total, worker, files }
//   (also of target/bench-app-no-views/: the app built with EDA_BENCH_NO_VIEWS=1, no UI at all)
//   const crates = await wasmCrates({ root, appDir });   // { rows, total } or { skipped: why }

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { fileSizes } from './report.mjs';

/** Issue 14: the whole app, gzipped, at most this many bytes (200 KB). */
export const APP_GZIP_GOAL = 200_000;
/** Trunk's output for the in-page broker (`data-trunk rel="rust"` worker, frontend/index.html). */
const WORKER_PREFIX = 'inpage-broker';

function kindOf(name) {
  if (path.basename(name).startsWith(WORKER_PREFIX)) return 'worker';
  const ext = path.extname(name).slice(1);
  if (ext === 'html') return 'html';
  if (ext === 'js' || ext === 'mjs') return 'js';
  if (ext === 'css') return 'css';
  if (ext === 'wasm') return 'wasm';
  return 'other';
}

function listFiles(dir, prefix = '') {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? listFiles(dir, path.join(prefix, e.name))
      : e.isFile()
        ? [path.join(prefix, e.name)]
        : [],
  );
}

/** Raw and gzip -9 bytes of every file of `appDir`, summed by kind. */
export function appSizes(appDir) {
  const files = listFiles(appDir).map((name) => ({
    name,
    kind: kindOf(name),
    ...fileSizes(path.join(appDir, name)),
  }));
  const sum = (list) => ({
    raw: list.reduce((n, f) => n + f.raw, 0),
    gzip: list.reduce((n, f) => n + f.gzip, 0),
    files: list.length,
  });
  const kinds = Object.fromEntries(
    ['html', 'js', 'css', 'wasm', 'other'].map((k) => [k, sum(files.filter((f) => f.kind === k))]),
  );
  return {
    kinds,
    // What a visit downloads: everything but the worker's files.
    total: sum(files.filter((f) => f.kind !== 'worker')),
    worker: sum(files.filter((f) => f.kind === 'worker')),
    files,
    goal: APP_GZIP_GOAL,
  };
}

const has = (command) => {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/**
 * The page's wasm by crate, from the same module Trunk optimised but with its names kept
 * (`wasm-opt -Oz -g` of wasm-bindgen's output in target/wasm-bindgen/release/, as
 * bench/profile/README.md does it), `twiggy top` and bench/profile/wasm-crates.py. Only when
 * that wasm-bindgen output is the build in `appDir` (its JS glue is byte for byte the app's):
 * an app built elsewhere (--app-dir) is skipped with the reason. Raw bytes, without names.
 */
export function wasmCrates({ root, appDir, top = 12 }) {
  const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
  const bindgen = path.join(targetDir, 'wasm-bindgen/release');
  const wasm = path.join(bindgen, 'eda-playground_bg.wasm');
  const glue = path.join(bindgen, 'eda-playground.js');
  if (!has('twiggy')) return { skipped: 'twiggy is not installed (scripts/bench installs it)' };
  if (!existsSync(wasm) || !existsSync(glue)) {
    return { skipped: `no ${path.relative(root, wasm)} (trunk build --release writes it)` };
  }
  const appGlue = listFiles(appDir).find((f) => /^eda-playground-[0-9a-f]+\.js$/.test(f));
  if (!appGlue || !readFileSync(glue).equals(readFileSync(path.join(appDir, appGlue)))) {
    return {
      skipped:
        `${path.relative(root, bindgen)}/ is not the build in ${appDir} ` +
        '(its JS glue differs): run scripts/bench without --app-dir for the split by crate',
    };
  }
  const wasmOpt = path.join(root, 'node_modules/.bin/wasm-opt');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'eda-bench-twiggy-'));
  try {
    const named = path.join(tmp, 'oz-g.wasm');
    // Trunk's flags (frontend/index.html's data-wasm-opt-params), with names kept.
    execFileSync(existsSync(wasmOpt) ? wasmOpt : 'wasm-opt', [
      '-Oz',
      '--low-memory-unused',
      '-g',
      wasm,
      '-o',
      named,
    ]);
    const csv = execFileSync('twiggy', ['top', '-n', '100000', '-f', 'csv', named], {
      maxBuffer: 256 << 20,
    });
    const csvFile = path.join(tmp, 'top.csv');
    writeFileSync(csvFile, csv);
    const table = execFileSync(
      'python3',
      [path.join(root, 'bench/profile/wasm-crates.py'), csvFile],
      { encoding: 'utf8' },
    );
    // "| group | 12,345 | 1.0 % | 7 |" rows; the header and the total row left out.
    const rows = table
      .split('\n')
      .map((line) => /^\| (.+?) \| ([\d,]+) \| ([\d.]+) % \| (\d+) \|$/.exec(line))
      .filter(Boolean)
      .map(([, group, bytes, share, items]) => ({
        group,
        bytes: Number(bytes.replaceAll(',', '')),
        share: Number(share) / 100,
        items: Number(items),
      }));
    const total = rows.find((r) => r.group === 'total');
    return {
      rows: rows.filter((r) => r !== total).slice(0, top),
      groups: rows.length - 1,
      total: total?.bytes ?? NaN,
      twiggy: execFileSync('twiggy', ['--version'], { encoding: 'utf8' }).trim(),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- the table ----------------------------------------------------------------------------------

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const int = (x) => Math.round(x).toLocaleString('en-US');

export function formatSizes(out, { sizes, noViews, crates }) {
  const { kinds, total, worker, goal } = sizes;
  out('### App size (gzip -9 of the release build)');
  out();
  out(
    "Trunk's release output as served (`trunk build --release`: wasm-opt -Oz). The whole " +
      'app is what every visit downloads; the in-page broker is a Web Worker fetched only ' +
      'with `?broker=inpage`, counted apart.',
  );
  out();
  out('| files | raw | gzip -9 | goal |');
  out('|---|---:|---:|---|');
  for (const [kind, label] of [
    ['html', 'index.html'],
    ['js', 'JS (wasm-bindgen glue)'],
    ['css', 'CSS'],
    ['wasm', 'wasm'],
    ['other', 'other files'],
  ]) {
    if (kinds[kind].files === 0 && kind === 'other') continue;
    out(`| ${label} | ${kb(kinds[kind].raw)} | ${int(kinds[kind].gzip)} B | |`);
  }
  const met = total.gzip <= goal ? 'met' : 'NOT met';
  out(
    `| **whole app** (${total.files} files) | ${kb(total.raw)} | **${int(total.gzip)} B** ` +
      `| ≤ ${int(goal)} B: ${met} (${(total.gzip / goal).toFixed(2)}× the goal) |`,
  );
  out(
    `| in-page broker's worker (${worker.files} files, only with ?broker=inpage) ` +
      `| ${kb(worker.raw)} | ${int(worker.gzip)} B | |`,
  );
  if (noViews) {
    out(
      `| the same app with no view at all (\`EDA_BENCH_NO_VIEWS=1\`: the services, their MQTT ` +
        `clients, the core, the store; no UI) | ${kb(noViews.total.raw)} ` +
        `| ${int(noViews.total.gzip)} B | ${(noViews.total.gzip / goal).toFixed(2)}× the goal |`,
    );
  }
  out();
  if (!crates) return;
  if (crates.skipped) {
    out(`Where the wasm's bytes go: not measured, ${crates.skipped}.`);
    out();
    return;
  }
  out(
    `Where the wasm's bytes go, by crate (${crates.twiggy} on \`wasm-opt -Oz -g\` of the same ` +
      'module, bench/profile/wasm-crates.py; raw bytes without the name section, gzip roughly ' +
      `proportional). The top ${crates.rows.length} of ${crates.groups} groups:`,
  );
  out();
  out('| crate or group | raw bytes | share |');
  out('|---|---:|---:|');
  for (const r of crates.rows) out(`| ${r.group} | ${int(r.bytes)} | ${(100 * r.share).toFixed(1)} % |`);
  out(`| all | ${int(crates.total)} | 100 % |`);
  out();
}
