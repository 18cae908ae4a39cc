// Interoperability: our MQTT client (broker-bridge, in Chromium through its JavaScript binding
// bench/src/js_client.rs) against two independent brokers, Mosquitto and aedes, each started
// here on free ports, with MQTT.js (in Node, over TCP) as the independent peer that checks what
// we send and sends what we must receive.
//
//   scripts/test builds the binding (target/interop-pkg/), then:
//   node --test --test-reporter=spec e2e/interop.test.mjs      (EDA_INTEROP_PKG=<dir> for another build)
//
// Every scenario runs against both brokers, as MQTT 3.1.1 and as 5.0; where a broker lacks a
// feature (aedes has no MQTT 5.0) the scenario is skipped with the reason. Waits poll the
// page's events or the brokers' logs, never sleep; "did not arrive" is proven by a sentinel
// sent after it. On failure the broker's log and the page console go to e2e/artifacts/.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { HTML, pkgRoutes, servePage } from '../bench/server.mjs';
import { BROKERS, BrokerContext } from './interop/context.mjs';
import { maxQosScenarios } from './interop/max-qos.mjs';
import { qosScenarios } from './interop/qos.mjs';
import { refusalScenarios } from './interop/refusals.mjs';
import { retainedScenarios } from './interop/retained.mjs';
import { sessionScenarios } from './interop/session.mjs';
import { v5Scenarios } from './interop/v5.mjs';
import { willScenarios } from './interop/will.mjs';
import { launchBrowser } from './lib/browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PKG = path.relative(
  ROOT,
  path.resolve(ROOT, process.env.EDA_INTEROP_PKG ?? 'target/interop-pkg'),
);
const ARTIFACTS = path.join(ROOT, 'e2e', 'artifacts');

const VERSIONS = { 4: 'MQTT 3.1.1', 5: 'MQTT 5.0' };

describe('interoperability: our client in Chromium, MQTT.js in Node, real brokers', () => {
  if (!existsSync(path.join(ROOT, PKG, 'eda_bench_bg.wasm'))) {
    it('needs the JavaScript binding of our client', () => {
      throw new Error(
        `${PKG}/eda_bench_bg.wasm missing: build it first (scripts/test does: cargo build -p ` +
          `eda-bench --target wasm32-unknown-unknown --lib, then wasm-bindgen --target web ` +
          `--out-dir ${PKG} target/wasm32-unknown-unknown/debug/eda_bench.wasm)`,
      );
    });
    return;
  }

  let browser;
  let server;
  before(async () => {
    server = await servePage(ROOT, { '/': ['e2e/interop-page.html', HTML], ...pkgRoutes(PKG) });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const brokerKind of Object.keys(BROKERS)) {
    describe(brokerKind, () => {
      const ctx = new BrokerContext(brokerKind, { artifacts: ARTIFACTS });
      before(() => ctx.start(browser, server.url));
      after(() => ctx.stop());

      for (const version of [4, 5]) {
        describe(VERSIONS[version], () => {
          const options = { skip: version === 5 && !ctx.spec.v5 ? ctx.spec.noV5 : false };
          qosScenarios(ctx, version, options);
          retainedScenarios(ctx, version, options);
          willScenarios(ctx, version, options);
          sessionScenarios(ctx, version, options);
          if (version === 5) v5Scenarios(ctx);
          refusalScenarios(ctx, version);
          if (version === 4) maxQosScenarios(ctx);
        });
      }
    });
  }
});
