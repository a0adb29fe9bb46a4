// JSON read and written back without changing a value: an OCI bundle's config.json, a
// daemon.json. Runtimes put integers up to 2^64-1 in config.json (`docker run --ulimit
// core=-1` writes an rlimit of 18446744073709551615), which JSON.parse rounds to a number
// runc then refuses, so a number keeps its source text here. Objects have no prototype:
// a "__proto__" key is data.

export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export class JsonSyntaxError extends Error {
  constructor(message: string, at: number) {
    super(`${message} at offset ${at}`);
    this.name = 'JsonSyntaxError';
  }
}

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// A string token: quotes around anything but a quote, a backslash or a control character, or escapes.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

export function emptyObject(): JsonObject {
  return Object.create(null) as JsonObject;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

class Parser {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): JsonValue {
    const value = this.value();
    this.skipWhitespace();
    if (this.at !== this.text.length) throw new JsonSyntaxError('unexpected data after the value', this.at);
    return value;
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.exec(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  private token(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.at;
    const match = pattern.exec(this.text);
    if (!match) throw new JsonSyntaxError(`expected ${what}`, this.at);
    this.at = pattern.lastIndex;
    return match[0];
  }

  private expect(char: string): void {
    this.skipWhitespace();
    if (this.text[this.at] !== char) throw new JsonSyntaxError(`expected "${char}"`, this.at);
    this.at++;
  }

  private value(): JsonValue {
    this.skipWhitespace();
    const char = this.text[this.at];
    if (char === '{') return this.object();
    if (char === '[') return this.array();
    if (char === '"') return JSON.parse(this.token(STRING, 'a string')) as string;
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    return new JsonNumber(this.token(NUMBER, 'a value'));
  }

  private object(): JsonObject {
    const object = emptyObject();
    this.at++;
    this.skipWhitespace();
    if (this.text[this.at] === '}') {
      this.at++;
      return object;
    }
    for (;;) {
      this.skipWhitespace();
      const key = JSON.parse(this.token(STRING, 'a key')) as string;
      this.expect(':');
      // A repeated key keeps its last value, as JSON.parse and Go's encoding/json do.
      object[key] = this.value();
      this.skipWhitespace();
      const next = this.text[this.at++];
      if (next === '}') return object;
      if (next !== ',') throw new JsonSyntaxError('expected "," or "}"', this.at - 1);
    }
  }

  private array(): JsonValue[] {
    const array: JsonValue[] = [];
    this.at++;
    this.skipWhitespace();
    if (this.text[this.at] === ']') {
      this.at++;
      return array;
    }
    for (;;) {
      array.push(this.value());
      this.skipWhitespace();
      const next = this.text[this.at++];
      if (next === ']') return array;
      if (next !== ',') throw new JsonSyntaxError('expected "," or "]"', this.at - 1);
    }
  }
}

/** Parses one JSON document; numbers become JsonNumbers holding their source text. */
export function parseJson(text: string): JsonValue {
  return new Parser(text).document();
}

/** Compact JSON, or indented by `indent` spaces; a JsonNumber is written as the text it was read from. */
export function stringifyJson(value: JsonValue, indent = 0): string {
  return write(value, indent, '');
}

function write(value: JsonValue, indent: number, outer: string): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (value instanceof JsonNumber) return value.text;
  const inner = indent > 0 ? `${outer}${' '.repeat(indent)}` : '';
  const open = indent > 0 ? `\n${inner}` : '';
  const close = indent > 0 ? `\n${outer}` : '';
  const separator = indent > 0 ? `,\n${inner}` : ',';
  if (Array.isArray(value)) {
    return value.length === 0 ? '[]' : `[${open}${value.map((item) => write(item, indent, inner)).join(separator)}${close}]`;
  }
  const keys = Object.keys(value);
  const colon = indent > 0 ? ': ' : ':';
  const members = keys.map((key) => `${JSON.stringify(key)}${colon}${write(value[key]!, indent, inner)}`);
  return keys.length === 0 ? '{}' : `{${open}${members.join(separator)}${close}}`;
}
