// An OTLP/JSON file read by an implementation that is not ours: the protobuf classes the
// OpenTelemetry JS project generates with protobufjs from the opentelemetry-proto definitions
// (shipped inside @opentelemetry/otlp-transformer 0.216.0, the last release that carries them
// for traces).
//
//   const { spans, resources } = parseOtlpJson(text);   // throws, saying why, if it is not OTLP
//
// OTLP/JSON is proto3's JSON mapping except that trace and span ids are hex, where proto3 has
// base64 (the OTLP specification, "JSON Protobuf Encoding": receivers decode them as hex). So
// the ids are decoded from hex here, as a receiver does, and must give 16 and 8 bytes; the rest
// goes through the generated `fromObject`, is encoded to protobuf's binary form, decoded, and
// must come back as the same JSON: a field the schema does not know, or of the wrong type,
// would be lost or changed on the way, and the comparison fails.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const { ExportTraceServiceRequest } = root.opentelemetry.proto.collector.trace.v1;

const ID_BYTES = { traceId: 16, spanId: 8, parentSpanId: 8 };

/** `value` with every id field mapped by `f(key, value)`, at any depth. */
function mapIds(value, f) {
  if (Array.isArray(value)) return value.map((v) => mapIds(v, f));
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k in ID_BYTES ? f(k, v) : mapIds(v, f)]),
    );
  }
  return value;
}

function hexToBytes(key, text) {
  assert.equal(typeof text, 'string', `${key} is a string`);
  assert.match(text, /^[0-9a-f]*$/, `${key} "${text}" is lowercase hex (OTLP/JSON), not base64`);
  const bytes = Buffer.from(text, 'hex');
  assert.equal(bytes.length, ID_BYTES[key], `${key} "${text}" decodes to ${ID_BYTES[key]} bytes`);
  assert.ok(bytes.some((b) => b !== 0), `${key} is not all zeros`);
  return bytes;
}

/**
 * Parses `text` as an OTLP/JSON ExportTraceServiceRequest. Returns the decoded message, the
 * JSON as it came back from protobuf's binary form, and every span with its resource's
 * `service.name` and `service.instance.id`.
 */
export function parseOtlpJson(text) {
  const json = JSON.parse(text);
  const message = ExportTraceServiceRequest.fromObject(mapIds(json, hexToBytes));
  const binary = ExportTraceServiceRequest.encode(message).finish();
  const decoded = ExportTraceServiceRequest.decode(binary);
  for (const resourceSpans of decoded.resourceSpans) {
    for (const span of resourceSpans.scopeSpans.flatMap((s) => s.spans)) {
      assert.equal(span.traceId.length, 16, 'a 16-byte trace id in the protobuf form');
      assert.equal(span.spanId.length, 8, 'an 8-byte span id in the protobuf form');
    }
  }
  const back = mapIds(
    ExportTraceServiceRequest.toObject(decoded, { longs: String, enums: Number, bytes: String, defaults: false }),
    (_, base64) => Buffer.from(base64, 'base64').toString('hex'),
  );
  assert.deepStrictEqual(back, json, 'the file survives protobuf binary encoding unchanged');

  const attribute = (attributes, key) => {
    const kv = (attributes ?? []).find((a) => a.key === key);
    return kv ? Object.values(kv.value)[0] : undefined;
  };
  const spans = back.resourceSpans.flatMap((r) =>
    r.scopeSpans.flatMap((s) =>
      s.spans.map((span) => ({
        ...span,
        service: attribute(r.resource.attributes, 'service.name'),
        client: attribute(r.resource.attributes, 'service.instance.id'),
        attr: (key) => attribute(span.attributes, key),
      })),
    ),
  );
  return { message: decoded, json: back, spans, binaryBytes: binary.length };
}
