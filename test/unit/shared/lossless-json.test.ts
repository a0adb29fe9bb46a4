// The lossless JSON codec (an OCI config.json, a daemon.json): every value read is written back as it was, numbers by their text
// (a JSON.parse round trip turns RLIM_INFINITY into a number runc refuses), and anything
// that is not one JSON document is refused.
import { describe, expect, it } from 'vitest';
import { isJsonObject, JsonNumber, JsonSyntaxError, parseJson, stringifyJson } from '../../../src/shared/lossless-json.js';

describe('config.json codec', () => {
  it('keeps 2^64-1 (docker run --ulimit core=-1) exactly, where JSON.parse would round it', () => {
    const text = '{"process":{"rlimits":[{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615}]}}';
    expect(stringifyJson(parseJson(text))).toBe(text);
    expect(JSON.stringify(JSON.parse(text))).not.toBe(text);
  });

  it.each([
    ['every kind of value', '{"a":[1,-2.5,3e10,0,true,false,null,"x"],"b":{},"c":[],"d":{"e":{"f":"g"}}}'],
    ['numbers as written, however JavaScript would print them', '[1.0,1E3,-0,0.000001,123456789012345678901234567890]'],
  ])('writes back %s byte for byte', (_, text) => {
    expect(stringifyJson(parseJson(text))).toBe(text);
  });

  it('writes back escaped and non-ASCII strings with the same value', () => {
    const text = '{"s":"tab\\there \\"quoted\\" \\\\ \\u00e9 é \\ud83d\\ude00 \\ud800"}';
    expect(JSON.parse(stringifyJson(parseJson(text)))).toEqual(JSON.parse(text));
  });

  it('drops only the whitespace between tokens', () => {
    expect(stringifyJson(parseJson(' {\n\t"a" : [ 1 , 2 ] ,\r\n "b":"x y" } '))).toBe('{"a":[1,2],"b":"x y"}');
  });

  it('treats a "__proto__" key as data, not as the object\'s prototype', () => {
    const value = parseJson('{"__proto__":{"polluted":true},"a":1}');
    expect(isJsonObject(value) && Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(stringifyJson(value)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });

  it('keeps the last value of a repeated key, as runc (Go) does', () => {
    expect(stringifyJson(parseJson('{"a":1,"a":2}'))).toBe('{"a":2}');
  });

  it('indents as JSON.stringify does, numbers still as written', () => {
    const text = '{"runtimes":{"cgprocfs":{"path":"/x","runtimeArgs":["--a","b"]}},"n":1.50,"e":{},"l":[]}';
    expect(stringifyJson(parseJson(text), 2)).toBe(JSON.stringify(JSON.parse(text), null, 2).replace('1.5', '1.50'));
  });

  it('returns numbers as JsonNumber holding their text', () => {
    expect(parseJson('[7e1,-0.5]')).toEqual([new JsonNumber('7e1'), new JsonNumber('-0.5')]);
  });

  it.each([
    ['an empty file', ''],
    ['a truncated object', '{"mounts":[{"destination":"/proc"'],
    ['trailing data after the object (runc\'s decoder would stop before it)', '{"a":1}\n#'],
    ['a trailing comma', '{"a":1,}'],
    ['a leading zero', '[01]'],
    ['a control character in a string', '["a\u0001"]'],
    ['a single-quoted string', "{'a':1}"],
    ['a bare word', '[undefined]'],
  ])('refuses %s with a JsonSyntaxError', (_, text) => {
    expect(() => parseJson(text)).toThrow(JsonSyntaxError);
  });
});
