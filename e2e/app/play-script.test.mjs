// scripts/play, the README's command for the playground, before it builds anything: its own
// options and help, a taken port said in a sentence, and the check that what listens on the
// broker's port is an MQTT broker (scripts/lib/mqtt-answers.mjs). No browser.
//
//   node --test e2e/app/play-script.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import mqtt from 'mqtt';

import { freePort, startBroker } from '../lib/broker.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = (command, args) => spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
const play = (...args) => run('./scripts/play', args);

// An HTTP server (not a broker), listening until closed.
async function httpServer() {
  const port = await freePort();
  const server = http.createServer((_, res) => res.end('hello'));
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('scripts/play', () => {
  it('--help lists its own options and exits 0; an unknown option is named, with the usage, exit 2', () => {
    const help = play('--help');
    assert.equal(help.status, 0, help.stderr);
    for (const option of ['--dev', '--secure', '--port N']) assert.match(help.stdout, new RegExp(option));
    const unknown = play('--bogus');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^unknown option: --bogus\nUsage: \.\/scripts\/play/);
    assert.doesNotMatch(unknown.stderr, /trunk serve|Usage: trunk/, 'nothing of trunk serve');
    // 08080: a newcomer's break-test saw it pass the check and build (bash read it as octal).
    for (const bad of ['abc', '08080', '0', '65536', '123456']) {
      const notPort = play('--port', bad);
      assert.equal(notPort.status, 2, bad);
      assert.match(notPort.stderr, new RegExp(`--port ${bad}: not a port number`), bad);
    }
  });

  it('a port taken is said in a sentence that names the option to use', async () => {
    const taken = await httpServer();
    try {
      const result = play('--dev', '--port', String(taken.port));
      assert.equal(result.status, 1);
      assert.match(result.stderr, new RegExp(`port ${taken.port} is taken.*\\n.*\\./scripts/play --port ${taken.port + 1}`));
      assert.doesNotMatch(result.stderr, /backtrace|os error/i);
    } finally {
      await taken.close();
    }
  });

  // A newcomer's break-test: a 2 MB message published from outside reached the page's clients
  // at Mosquitto's WebSocket pace (~40 KB/s), longer than their PINGRESP timeout: each dropped
  // its connection and was sent the message again, for ever. The playground's broker refuses it.
  it('the playground\'s Mosquitto (static/mosquitto.conf) refuses a 2 MB PUBLISH and takes a 300 KB one', async () => {
    const conf = readFileSync(path.join(ROOT, 'static', 'mosquitto.conf'), 'utf8');
    const limit = /^max_packet_size (\d+)$/m.exec(conf)?.[1];
    assert.ok(limit, 'static/mosquitto.conf sets max_packet_size');
    const broker = await startBroker({ settings: { max_packet_size: limit } });
    try {
      const publish = (bytes) => new Promise((resolve) => {
        const client = mqtt.connect(`mqtt://127.0.0.1:${broker.tcpPort}`, { reconnectPeriod: 0 });
        client.on('error', () => {});
        client.on('close', () => resolve('closed'));
        client.on('connect', () => client.publish('orders/created', Buffer.alloc(bytes, 0x79), { qos: 1 }, (err) => {
          client.end(true);
          resolve(err ? 'closed' : 'acknowledged');
        }));
      });
      assert.equal(await publish(2_000_000), 'closed', 'the broker drops a client that sends 2 MB');
      assert.equal(await publish(300_000), 'acknowledged', 'and takes 300 KB (over the page\'s 256 KiB limit)');
      assert.match(broker.log(), /disconnected due to oversize packet/);
    } finally {
      await broker.stop();
    }
  });

  it('mqtt-answers: a Mosquitto over WebSocket answers, an HTTP server does not', async () => {
    const broker = await startBroker();
    const notBroker = await httpServer();
    try {
      const yes = run('node', ['scripts/lib/mqtt-answers.mjs', broker.wsUrl]);
      assert.equal(yes.status, 0, yes.stdout + yes.stderr);
      const no = run('node', ['scripts/lib/mqtt-answers.mjs', `ws://127.0.0.1:${notBroker.port}`]);
      assert.equal(no.status, 1);
      assert.notEqual(no.stdout.trim(), '', 'it says what happened');
    } finally {
      await notBroker.close();
      await broker.stop();
    }
  });
});

// A newcomer's break-test (39-AA F5): `scripts/cluster --help` started installing npm packages
// (beside the learner's own npm ci, which it broke).
describe('scripts/cluster', () => {
  it('--help prints its usage, with the ports it uses and how to run nodes on others, and exits 0 without installing or starting anything', () => {
    const help = run('./scripts/cluster', ['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: scripts\/cluster \[--dev\]/);
    assert.match(help.stdout, /6390/);
    assert.match(help.stdout, /node e2e\/lib\/aedes-cluster-node\.mjs <name> <redis port> <tcp port> <ws port>/);
    assert.doesNotMatch(`${help.stdout}${help.stderr}`, /installing|added \d+ packages|Redis is ready|serving/i);
  });
});
