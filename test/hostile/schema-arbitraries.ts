/**
 * fast-check arbitraries derived from the routes' own zod schemas (through their JSON Schema, the
 * same description the OpenAPI document is built from): valid bodies and queries first, then the
 * mutations a hostile client sends (wrong types, missing and extra fields, huge strings, deep nesting,
 * `__proto__` and `constructor` keys, invalid UTF-8, truncated JSON, wrong content types).
 */
import fc from 'fast-check';
import { z, type ZodType } from 'zod';

export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
}

/** The JSON Schema of what a zod schema accepts as input (refinements and transforms are left out). */
export function jsonSchemaOf(schema: ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

const ANY_JSON: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });

/** Values the schema accepts (as far as JSON Schema can say: a refinement may still refuse them). */
export function validValue(schema: JsonSchema, hints: { key?: string } = {}): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((alternative) => validValue(alternative, hints)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return validString(schema, hints.key);
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1_000_000);
      const max = Math.min(schema.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER);
      return fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.max(min, max) });
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(schema.items ? validValue(schema.items) : ANY_JSON, { minLength: schema.minItems ?? 0, maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)) });
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const entries = Object.keys(properties).map((key) => [key, validValue(properties[key]!, { key })] as const);
      return fc.record(Object.fromEntries(entries), { requiredKeys: [...required].filter((key) => key in properties) });
    }
    default:
      return ANY_JSON;
  }
}

function validString(schema: JsonSchema, key: string | undefined): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.max(min, Math.min(schema.maxLength ?? 40, 40));
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString());
    case 'date':
      return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));
    case 'uri':
      return fc.webUrl();
    default:
      break;
  }
  if (key && /email/i.test(key)) return fc.emailAddress().filter((email) => email.length <= (schema.maxLength ?? 254));
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern)).filter((text) => text.length >= min && text.length <= (schema.maxLength ?? Infinity));
    } catch {
      // a pattern fast-check cannot generate from: plain strings below
    }
  }
  return fc.string({ minLength: min, maxLength: max, unit: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...'abcxyz 0123-_.') }, { weight: 1, arbitrary: fc.constantFrom('é', '日', '😀', '\u0000', '\u202e', '"', '\\', '<') }) });
}

// ---------------------------------------------------------------------------------------------------
// Bodies as they go on the wire, valid or mutated

export interface WireBody {
  readonly mutation: string;
  /** Undefined: no body at all. */
  readonly bytes: Buffer | undefined;
  /** Undefined: no Content-Type header. */
  readonly contentType: string | undefined;
}

const WRONG_TYPED: readonly unknown[] = [0, -1, 1e308, true, null, [], {}, 'text', [1, 2], { nested: { deeper: true } }];
const PROTO_PAYLOADS = [
  '"__proto__": {"isAdmin": true, "polluted": "yes"}',
  '"constructor": {"prototype": {"polluted": "yes"}}',
  '"prototype": {"polluted": "yes"}',
  '"__proto__": [1, 2, 3]',
];
const WRONG_CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'application/xml', 'application/json; charset=utf-16', 'application/jsonx', '*/*'];

const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const asJson = (bytes: Buffer, mutation: string): WireBody => ({ mutation, bytes, contentType: 'application/json' });

/** Inserts raw `"key": value` text as the first member of a JSON object's text. */
function withRawMember(value: Record<string, unknown>, member: string): Buffer {
  const text = JSON.stringify(value);
  return Buffer.from(text === '{}' ? `{${member}}` : `{${member},${text.slice(1)}`, 'utf8');
}

function nestedText(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A body for a route whose schema is `schema`: valid, or one mutation of a valid one. */
export function wireBody(schema: JsonSchema | undefined): fc.Arbitrary<WireBody> {
  const valid = (schema ? validValue(schema) : ANY_JSON).map((value) => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value }));
  return fc.oneof(
    { weight: 10, arbitrary: valid.map((value) => asJson(json(value), 'valid')) },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, fc.nat(), fc.constantFrom(...WRONG_TYPED)).map(([value, index, wrong]) => {
        const keys = Object.keys(value);
        if (keys.length === 0) return asJson(json({ ...value, unexpected: wrong }), 'wrong type (extra)');
        return asJson(json({ ...value, [keys[index % keys.length]!]: wrong }), 'wrong type');
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.nat()).map(([value, index]) => {
        const keys = Object.keys(value);
        const copy = { ...value };
        if (keys.length > 0) delete copy[keys[index % keys.length]!];
        return asJson(json(copy), 'missing field');
      }),
    },
    { weight: 1, arbitrary: fc.tuple(valid, fc.string({ maxLength: 12 }), ANY_JSON).map(([value, key, extra]) => asJson(json({ ...value, [`x${key}`]: extra }), 'extra field')) },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.nat(), fc.constantFrom(100_000, 1_200_000)).map(([value, index, size]) => {
        const keys = Object.keys(value);
        const key = keys.length > 0 ? keys[index % keys.length]! : 'title';
        return asJson(json({ ...value, [key]: 'ж'.repeat(size / 2) }), `huge string (${size} bytes)`);
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.constantFrom(31, 33, 200, 20_000)).map(([value, depth]) => {
        const keys = Object.keys(value);
        const key = keys[0] ?? 'title';
        const text = JSON.stringify({ ...value, [key]: 0 }).replace(`"${key}":0`, `"${key}":${nestedText(depth)}`);
        return asJson(Buffer.from(text, 'utf8'), `nested ${depth} deep`);
      }),
    },
    { weight: 1, arbitrary: fc.tuple(valid, fc.constantFrom(...PROTO_PAYLOADS)).map(([value, member]) => asJson(withRawMember(value, member), 'prototype keys')) },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82])).map(([value, bad]) => {
        const text = JSON.stringify({ ...value, zz: 'MARK' });
        const [before, after] = text.split('MARK') as [string, string];
        return asJson(Buffer.concat([Buffer.from(before, 'utf8'), Buffer.from(bad), Buffer.from(after, 'utf8')]), 'invalid UTF-8');
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.constantFrom(...WRONG_CONTENT_TYPES)).map(([value, contentType]): WireBody => ({ mutation: `content type ${contentType}`, bytes: json(value), contentType })),
    },
    { weight: 1, arbitrary: valid.map((value): WireBody => ({ mutation: 'no content type', bytes: json(value), contentType: undefined })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('{', '{"a":', '[]', 'null', '"x"', '1', 'NaN', '{"a":1}}', '\ufeff{}', '{"a":1,}', "{'a':1}", '').map((text) => asJson(Buffer.from(text, 'utf8'), `not a JSON object: ${JSON.stringify(text)}`)),
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// Query strings

/** A query string (already encoded) for a route whose query schema is `schema`: valid or mutated. */
export function wireQuery(schema: JsonSchema | undefined): fc.Arbitrary<{ mutation: string; query: string }> {
  const properties = schema?.properties ?? {};
  const keys = Object.keys(properties);
  const valid = (schema ? validValue(schema) : fc.constant({})).map((value) => stringify(value as Record<string, unknown>));
  const encode = (pairs: Array<[string, string]>) => pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
  const someKey = fc.constantFrom(...(keys.length > 0 ? keys : ['limit']));
  return fc.oneof(
    { weight: schema ? 10 : 28, arbitrary: valid.map((pairs) => ({ mutation: 'valid', query: encode(pairs) })) },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, someKey, fc.constantFrom('abc', '-1', '1e309', '0x10', '', ' ', 'true', 'null', '[]', '9'.repeat(40), '1.5', 'NaN', '%00')).map(([pairs, key, wrong]) => ({
        mutation: 'wrong value',
        query: encode([...pairs.filter(([k]) => k !== key), [key, wrong]]),
      })),
    },
    { weight: 1, arbitrary: fc.tuple(valid, someKey).map(([pairs, key]) => ({ mutation: 'repeated key', query: `${encode(pairs)}&${encodeURIComponent(key)}=1&${encodeURIComponent(key)}=2` })) },
    { weight: 1, arbitrary: fc.tuple(valid, someKey).map(([pairs, key]) => ({ mutation: 'huge value', query: encode([...pairs.filter(([k]) => k !== key), [key, 'q'.repeat(6_000)]]) })) },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.constantFrom('__proto__[polluted]=yes', 'constructor[prototype][polluted]=yes', '__proto__=x', 'a[b][c][d][e][f]=1', 'toString=1', 'hasOwnProperty=1')).map(([pairs, raw]) => ({
        mutation: 'prototype keys',
        query: [encode(pairs), raw].filter(Boolean).join('&'),
      })),
    },
    { weight: 1, arbitrary: fc.tuple(valid, fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([pairs, key, value]) => ({ mutation: 'extra key', query: encode([...pairs, [`x${key}`, value]]) })) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', 'a=%E0%A4%A', '&&&', '=', '%ff%fe=%c0%af').map((raw) => ({ mutation: 'broken encoding', query: raw })) },
  );
}

function stringify(value: Record<string, unknown>): Array<[string, string]> {
  return Object.entries(value).map(([key, item]) => [key, typeof item === 'string' ? item : JSON.stringify(item)]);
}
