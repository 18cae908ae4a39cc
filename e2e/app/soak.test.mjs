// The short reliability run of scripts/soak (100 orders, 3 broker restarts, seeded crashes):
// every order reaches exactly one outcome, none is charged twice, no stock goes negative or
// stays held, the page agrees with the wire and the broker drops nothing. The long run (1,000
// orders, 20 restarts) is scripts/soak; docs/soak.md has its figures.
//
//   node --test e2e/app/soak.test.mjs      (after `trunk build`)

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { DIST } from '../lib/app-suite.mjs';
import { runSoak } from '../soak/soak.mjs';

it('the short soak: 100 orders, 3 broker restarts, random crashes; nothing lost', { timeout: 600_000 }, async () => {
  const report = await runSoak({ orders: 100, restarts: 3, seed: 7, dist: DIST });
  console.log(JSON.stringify(report));
  assert.deepEqual(report.problems, []);
  assert.ok(report.ordersPlaced >= 100, `${report.ordersPlaced} orders`);
  assert.equal(report.restarts, 3);
  assert.equal(report.confirmed + report.cancelled, report.ordersPlaced);
  assert.equal(report.brokerDrops, 0);
});
