// A file whose text opens with `{` is read as kubectl 1.33+ reads it (apimachinery's
// YAMLOrJSONDecoder), whatever its name: JSON values one after another, each a document, then YAML
// where JSON fails, but past two values the failure is the file's error (manifest/json-syntax.ts,
// parse.ts).
import { describe, expect, it } from 'vitest';
import { isJsonText, scanJsonText } from '../../src/manifest/json-syntax.js';
import { parseFile } from '../../src/manifest/parse.js';

const POD =
  '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}';
/** A third value after two good ones: where and why it is no JSON, or the values' bounds. */
const third = (text: string) => {
  const r = scanJsonText(`{}\n{}\n${text}`, 'p.json');
  return r.problem
    ? `${r.problem.line}:${r.problem.col} ${r.problem.message.replace(/: after two JSON values.*$/, '')}`
    : r.values.slice(2).map(([s, e]) => [s - 6, e - 6]);
};

describe('a text opening with {, as kubectl reads it', () => {
  it('is one whose first character past white space (Go’s unicode.IsSpace) is {, never after a byte order mark', () => {
    expect([' \n\t{', '\u0085{}', '{}'].map(isJsonText)).toEqual([true, true, true]);
    expect(['\uFEFF{}', '# c\n{}', '[{}]', 'apiVersion: v1'].map(isJsonText)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('turns to YAML where JSON fails before two values, from past the last value and one line end', () => {
    expect(scanJsonText('{"a": 1, # note\n}', 'p.json')).toEqual({ values: [], yamlFrom: 0 });
    expect(scanJsonText('{"a": 1}  \n---\nb: 2\n', 'p.json')).toEqual({ values: [[0, 8]], yamlFrom: 11 });
    expect(scanJsonText('{"a": 1} {"b": 2, }', 'p.json')).toEqual({ values: [[0, 8]], yamlFrom: 9 });
  });

  it('past two values refuses what only YAML takes, at its place', () => {
    expect(third('{"a": 1, # note\n}')).toBe('3:10 a comment, which JSON does not have');
    expect(third('{"a": 1 // note\n}')).toBe('3:9 a comment, which JSON does not have');
    expect(third('{"a": [1, 2,]}')).toBe('3:13 a value expected before ] (a trailing comma?)');
    expect(third('{"a": 1,\n }')).toBe('4:2 a comma before } (trailing commas are not JSON)');
    expect(third("{'a': 1}")).toBe('3:2 a single-quoted string (JSON quotes with ")');
    expect(third('{a: 1}')).toBe('3:2 a property name must be double-quoted');
    expect(third('{"a": NaN}')).toBe(
      "3:7 invalid character 'N' looking for beginning of value (a bare word, NaN?)",
    );
    expect(third('{"a": 030}')).toBe("3:8 expected ',' or '}', found '3'");
    expect(third('{"a": "x\ty"}')).toBe(
      '3:9 a control character in a string (a raw tab or line break: write \\t, \\n)',
    );
    expect(third('{"a": "\\x"}')).toBe(
      '3:8 invalid escape \\x in a string (JSON\'s are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
    );
    expect(third('{"a": "open}')).toBe('3:7 a string that never ends');
    expect(third('{"a" 1}')).toBe("3:6 expected ':' after a property name, found '1'");
    expect(third('{"a": [1 2]}')).toBe("3:10 expected ',' or ']', found '2'");
    expect(third('{"a": {"b": [')).toBe('3:14 the text ends where a value was expected');
  });

  it('takes JSON as encoding/json does: escapes, numbers, values one after another, deep nesting without recursion', () => {
    expect(third('{"a": "\\u00e9\\/\\"", "b": -1.5e+3, "c": [true, false, null, {}], "d": []}')).toEqual([
      [0, 72],
    ]);
    expect(scanJsonText('{"a": 1}\n{"b": 2} {"c": 3}\n', 'p.json')).toEqual({
      values: [
        [0, 8],
        [9, 17],
        [18, 26],
      ],
    });
    const deep = `{"a": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    expect(scanJsonText(deep, 'p.json')).toEqual({ values: [[0, deep.length]] });
  });

  it('reads values one after another as documents, each placed where it is written, and YAML after one', () => {
    const cm = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "1"}}';
    const ok = parseFile(`${cm}\n  ${POD}`, 'p.json');
    expect([ok.parsed.map((d) => d.value.kind), ok.diagnostics]).toEqual([['ConfigMap', 'Pod'], []]);
    // The second object's image, a number: on line 2, two spaces in.
    const bad = parseFile(`${cm}\n  ${POD.replace('"busybox"', '5')}\n`, 'p.json');
    expect(bad.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`)).toEqual(['2:113 ERR_MANIFEST_SCHEMA']);
    // A second object with a comment is YAML from there; a third one's comment refuses the file.
    const yamlAfter = parseFile(`${cm} ${POD.replace('"spec"', '# a comment\n"spec"')}`, 'p.json');
    expect([yamlAfter.parsed.map((d) => d.value.kind), yamlAfter.diagnostics]).toEqual([
      ['ConfigMap', 'Pod'],
      [],
    ]);
    const past = parseFile(
      `${cm}\n${cm.replace('"c"', '"d"')}\n${POD.replace('"spec"', '# a comment\n"spec"')}`,
      'p.json',
    );
    expect(past.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`)).toEqual(['3:64 ERR_JSON_SYNTAX']);
  });
});
