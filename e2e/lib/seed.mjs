// The event payloads of the project's seed ("Data Flow"), and strict shape checks for them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The seed's example OrderCreatedEvent, byte for byte as the seed shows it. */
export const SEED_ORDER_CREATED_JSON = readFileSync(
  fileURLToPath(new URL('../../docs/wire-contract/order-created.json', import.meta.url)),
  'utf8',
);

export const SEED_ORDER_CREATED = Object.freeze(JSON.parse(SEED_ORDER_CREATED_JSON));
export const SEED_ORDER_ID = SEED_ORDER_CREATED.orderId;

/** The seed's OrderCreated with another orderId (and optionally other fields), as JSON text. */
export function orderCreatedJson(overrides = {}) {
  return JSON.stringify({ ...SEED_ORDER_CREATED, ...overrides });
}

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

const ORDER_CREATED_KEYS = ['orderId', 'customerId', 'items', 'totalAmount', 'createdAt'];
const ORDER_ITEM_KEYS = ['productId', 'quantity', 'price'];
const PAYMENT_PROCESSED_KEYS = ['orderId', 'paymentId', 'amount', 'success', 'processedAt'];
const INVENTORY_RESERVED_KEYS = ['orderId', 'reservationId', 'success', 'reservedAt'];

function assertObject(value, what) {
  assert.ok(
    value !== null && typeof value === 'object' && !Array.isArray(value),
    `${what} must be a JSON object, got ${JSON.stringify(value)}`,
  );
}

function assertKeys(obj, keys, what) {
  assert.deepEqual(
    Object.keys(obj).sort(),
    [...keys].sort(),
    `${what} must have exactly the keys ${keys.join(', ')}: ${JSON.stringify(obj)}`,
  );
}

function assertUuidV4(value, what) {
  assert.ok(typeof value === 'string' && UUID_V4.test(value), `${what} must be a v4 UUID, got ${JSON.stringify(value)}`);
}

function assertTimestamp(value, what) {
  assert.ok(
    typeof value === 'string' && ISO_UTC.test(value) && !Number.isNaN(Date.parse(value)),
    `${what} must be an ISO-8601 UTC timestamp like 2024-01-15T10:30:00.000Z, got ${JSON.stringify(value)}`,
  );
}

function assertAmount(value, what) {
  assert.ok(
    typeof value === 'number' && Number.isFinite(value) && value >= 0,
    `${what} must be a non-negative JSON number, got ${JSON.stringify(value)}`,
  );
}

export function checkOrderCreated(obj) {
  assertObject(obj, 'OrderCreated');
  assertKeys(obj, ORDER_CREATED_KEYS, 'OrderCreated');
  assertUuidV4(obj.orderId, 'OrderCreated.orderId');
  assert.ok(
    typeof obj.customerId === 'string' && obj.customerId.trim() !== '',
    `OrderCreated.customerId must be a non-empty string, got ${JSON.stringify(obj.customerId)}`,
  );
  assert.ok(
    Array.isArray(obj.items) && obj.items.length > 0,
    `OrderCreated.items must be a non-empty array, got ${JSON.stringify(obj.items)}`,
  );
  let sum = 0;
  obj.items.forEach((item, i) => {
    const what = `OrderCreated.items[${i}]`;
    assertObject(item, what);
    assertKeys(item, ORDER_ITEM_KEYS, what);
    assert.ok(
      typeof item.productId === 'string' && item.productId.trim() !== '',
      `${what}.productId must be a non-empty string, got ${JSON.stringify(item.productId)}`,
    );
    assert.ok(
      Number.isInteger(item.quantity) && item.quantity > 0,
      `${what}.quantity must be a positive integer, got ${JSON.stringify(item.quantity)}`,
    );
    assertAmount(item.price, `${what}.price`);
    sum += item.quantity * item.price;
  });
  assertAmount(obj.totalAmount, 'OrderCreated.totalAmount');
  assert.ok(
    Math.abs(obj.totalAmount - sum) < 0.005,
    `OrderCreated.totalAmount ${obj.totalAmount} must be the sum of quantity × price (${sum})`,
  );
  assertTimestamp(obj.createdAt, 'OrderCreated.createdAt');
}

export function checkPaymentProcessed(obj) {
  assertObject(obj, 'PaymentProcessed');
  assertKeys(obj, PAYMENT_PROCESSED_KEYS, 'PaymentProcessed');
  assertUuidV4(obj.orderId, 'PaymentProcessed.orderId');
  assertUuidV4(obj.paymentId, 'PaymentProcessed.paymentId');
  assertAmount(obj.amount, 'PaymentProcessed.amount');
  assert.equal(typeof obj.success, 'boolean', `PaymentProcessed.success must be a boolean: ${JSON.stringify(obj)}`);
  assertTimestamp(obj.processedAt, 'PaymentProcessed.processedAt');
}

export function checkInventoryReserved(obj) {
  assertObject(obj, 'InventoryReserved');
  assertKeys(obj, INVENTORY_RESERVED_KEYS, 'InventoryReserved');
  assertUuidV4(obj.orderId, 'InventoryReserved.orderId');
  assertUuidV4(obj.reservationId, 'InventoryReserved.reservationId');
  assert.equal(typeof obj.success, 'boolean', `InventoryReserved.success must be a boolean: ${JSON.stringify(obj)}`);
  assertTimestamp(obj.reservedAt, 'InventoryReserved.reservedAt');
}
