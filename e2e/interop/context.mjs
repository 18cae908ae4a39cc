// What every interoperability scenario needs for one broker: the broker, a page holding our
// clients, MQTT.js peers, unique names, what the broker logs when a client leaves or
// acknowledges, and clean-up between scenarios.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';

import { startAedes } from '../lib/aedes.mjs';
import { startBroker } from '../lib/broker.mjs';
import { openPage, panics } from '../lib/browser.mjs';
import { connectPeer } from '../lib/mqtt-peer.mjs';
import { connectOurs } from '../lib/page-client.mjs';

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Mosquitto's ACL for the tests: anyone may read and write under interop/ (our scenarios) and
 * interop-peer/ (MQTT.js's sentinels), and only read under readonly/, so a publish there is
 * refused (MQTT 5.0: PUBACK 0x87 Not authorized).
 */
const MOSQUITTO_ACL = [
  'topic readwrite interop/#',
  'topic readwrite interop-peer/#',
  'topic read readonly/#',
  '',
].join('\n');

/** What differs between the brokers; `false` or a reason (a skip message) for what is absent. */
export const BROKERS = {
  mosquitto: {
    start: () => startBroker({ acl: MOSQUITTO_ACL }),
    v5: true,
    /** A topic this broker refuses publishes to (MQTT 5.0 shows it). */
    readOnlyTopic: (tag) => `readonly/${tag}`,
    rejectsEmptyPersistentId: true,
    refusesSubscriptions:
      'Mosquitto 2.0.11 grants subscriptions its ACL denies (it withholds the messages instead): ' +
      'there is no refusal to observe',
    /** The log line once the broker has noticed `clientId` is gone, politely or not. */
    gone: (clientId) =>
      new RegExp(`Client ${escape(clientId)} (disconnected|closed its connection)`),
    /** The log line once the broker has read `clientId`'s DISCONNECT. */
    leftPolitely: (clientId) => new RegExp(`Client ${escape(clientId)} disconnected\\.`),
    /** The log line once `clientId` has acknowledged the broker's message `mid` in full. */
    acked: (clientId, qos, mid) => {
      const kind = qos === 1 ? 'PUBACK' : 'PUBCOMP';
      return new RegExp(`Received ${kind} from ${escape(clientId)} \\(Mid: ${mid}[,)]`);
    },
  },
  aedes: {
    start: () => startAedes(),
    v5: false,
    noV5: 'aedes 1.2.0 speaks MQTT 3.1.1 only (its README: "MQTT 5.0 (not support yet)")',
    readOnlyTopic: null,
    rejectsEmptyPersistentId:
      'aedes 1.2.0 accepts an empty client id with clean session off (it makes one up), where ' +
      'MQTT 3.1.1 [MQTT-3.1.3-8] says to refuse it: there is no refusal to observe',
    refusesSubscriptions: true,
    /** aedes-server.mjs refuses subscriptions under denied/. */
    deniedFilter: (tag) => `denied/${tag}`,
    gone: (clientId) => new RegExp(`^client disconnected ${escape(clientId)}$`, 'm'),
    leftPolitely: (clientId) => new RegExp(`^wire from ${escape(clientId)} DISCONNECT$`, 'm'),
    // aedes-server.mjs logs every packet a WebSocket client sends.
    acked: (clientId, qos, mid) =>
      new RegExp(`^wire from ${escape(clientId)} ${qos === 1 ? 'PUBACK' : 'PUBCOMP'} ${mid}$`, 'm'),
  },
};

export class BrokerContext {
  constructor(kind, { artifacts }) {
    this.kind = kind;
    this.spec = BROKERS[kind];
    this.artifacts = artifacts;
    this.tag = randomUUID().slice(0, 6);
    this.count = 0;
    this.broker = null;
    this.app = null;
    this.peers = [];
  }

  /** Starts the broker and opens the page (in `browser`, from `pageUrl`). */
  async start(browser, pageUrl) {
    this.broker = await this.spec.start();
    this.app = await openPage(browser, pageUrl);
    await this.app.page.evaluate(() => window.interopReady);
  }

  async stop() {
    await this.app?.close();
    await this.broker?.stop();
  }

  /** A client id used nowhere else in this run: `ours-<tag>-<n>` (within 3.1.1's 23). */
  clientId() {
    this.count += 1;
    return `ours-${this.tag}-${this.count}`;
  }

  /** A topic used nowhere else in this run. */
  topic(name) {
    this.count += 1;
    return `interop/${this.tag}/${this.count}/${name}`;
  }

  /** Our client in the page, connected (MQTT `version` 4 or 5). */
  ours(version, options = {}, { name, waitConnected } = {}) {
    const connectOptions = { clientId: this.clientId(), version, ...options };
    return connectOurs(this.app, this.broker.wsUrl, connectOptions, {
      name: name ?? connectOptions.clientId,
      waitConnected,
    });
  }

  /** An MQTT.js client over TCP, closed after the scenario. */
  async peer(version) {
    const peer = await connectPeer({ tcpPort: this.broker.tcpPort, version });
    this.peers.push(peer);
    return peer;
  }

  /** Closes what the last scenario opened. */
  async cleanUp() {
    const peers = this.peers.splice(0);
    await Promise.all(peers.map((p) => p.close().catch(() => {})));
    await this.app?.page.evaluate(() => window.interop.closeAll()).catch(() => {});
  }

  /**
   * A test against this broker: `skip` false or a reason. On failure the broker's log and the
   * page's console go to e2e/artifacts/.
   */
  scenario(name, { skip = false } = {}, body) {
    it(name, { skip }, async () => {
      try {
        await body();
        assert.deepEqual(panics(this.app), [], 'our client panicked in the page');
      } catch (error) {
        await this.saveArtifacts(name).catch(() => {});
        throw error;
      } finally {
        await this.cleanUp();
      }
    });
  }

  async saveArtifacts(name) {
    const slug = `${this.kind}-${name}`.replace(/[^a-z0-9]+/gi, '-').slice(0, 100);
    await mkdir(this.artifacts, { recursive: true });
    const file = path.join(this.artifacts, `interop-${slug}.log`);
    const text = [
      `--- ${this.kind} log ---`,
      this.broker?.log() ?? '(no broker)',
      '--- page console ---',
      ...(this.app?.console ?? []),
    ].join('\n');
    await writeFile(file, text);
  }
}
