import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { PropertiesSyntaxError, formatProperties, javaDateString, parseProperties, parsePropertyEntries } from './java-properties.ts';

describe('parseProperties', () => {
  it('reads the three separators and skips comments and blank lines', () => {
    const text = ['# comment', '! also a comment', '', '   ', 'a=1', 'b:2', 'c 3', 'd\t=\t4', 'e  :  5', '  f=6'].join('\n');
    expect(parseProperties(text)).toEqual({ a: '1', b: '2', c: '3', d: '4', e: '5', f: '6' });
  });

  it('keeps trailing whitespace of values and drops leading whitespace', () => {
    expect(parseProperties('k =   v  \n')).toEqual({ k: 'v  ' });
  });

  it('treats only one separator as such: the rest belongs to the value', () => {
    expect(parseProperties('a==b\nc::d\ne = = f\ng : =h')).toEqual({ a: '=b', c: ':d', e: '= f', g: '=h' });
  });

  it('takes a key with no value as the empty string', () => {
    expect(parseProperties('lonely\nsep=\nspace   ')).toEqual({ lonely: '', sep: '', space: '' });
  });

  it('joins continuation lines and drops their leading whitespace', () => {
    expect(parseProperties('listeners=PLAINTEXT://:9092,\\\n    CONTROLLER://:9093\nnext=1')).toEqual({
      listeners: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      next: '1',
    });
  });

  it('does not continue after an even number of backslashes', () => {
    expect(parseProperties('path=c:\\\\\nx=1')).toEqual({ path: 'c:\\', x: '1' });
  });

  it('reads a comment-looking continuation line as data, and a comment line never continues', () => {
    expect(parseProperties('a=1\\\n#2\n# c \\\nb=3')).toEqual({ a: '1#2', b: '3' });
  });

  it('ends a continuation at end of input or at a blank line', () => {
    expect(parseProperties('a=1\\')).toEqual({ a: '1' });
    expect(parseProperties('a=1\\\n\nb=2')).toEqual({ a: '1', b: '2' });
  });

  it('accepts \\r\\n and \\r line ends', () => {
    expect(parseProperties('a=1\r\nb=2\rc=3')).toEqual({ a: '1', b: '2', c: '3' });
  });

  it('decodes escapes in keys and values', () => {
    expect(parseProperties('key\\ with\\=odd\\:chars = tab\\there\\nnl \\u00e9\\u20AC \\\\ \\q')).toEqual({
      'key with=odd:chars': 'tab\there\nnl é€ \\ q',
    });
  });

  it('rejects a malformed \\u escape with the line number', () => {
    let err: unknown;
    try {
      parsePropertyEntries('a=1\nb=\\u12G4');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PropertiesSyntaxError);
    expect((err as PropertiesSyntaxError).line).toBe(2);
    expect((err as Error).message).toBe('Malformed \\uxxxx encoding.');
  });

  it('lets later duplicates win and reports each entry with its starting line', () => {
    const text = '# x\na=1\nb=long\\\n  value\na=2\n';
    expect(parseProperties(text)).toEqual({ a: '2', b: 'longvalue' });
    expect(parsePropertyEntries(text).map((e) => [e.key, e.line])).toEqual([['a', 2], ['b', 3], ['a', 5]]);
  });

  it('has no prototype keys', () => {
    const p = parseProperties('__proto__=x\nconstructor=y');
    expect(p['__proto__']).toBe('x');
    expect(Object.keys(p)).toEqual(['__proto__', 'constructor']);
  });
});

describe('formatProperties', () => {
  it('writes as Properties.store: empty comment line, date line, sorted keys', () => {
    const text = formatProperties({ 'node.id': '1', 'cluster.id': 'abc', version: '1' }, { date: new Date(Date.UTC(2024, 2, 5, 9, 4, 0)) });
    expect(text).toBe('#\n#Tue Mar 05 09:04:00 UTC 2024\ncluster.id=abc\nnode.id=1\nversion=1\n');
  });

  it('escapes separators, comment markers, leading spaces and control characters', () => {
    const text = formatProperties({ 'a b=c:d': ' x y#!\t\\' }, { comments: null, date: new Date(0) });
    expect(text.split('\n')[1]).toBe('a\\ b\\=c\\:d=\\ x y\\#\\!\\t\\\\');
  });

  it('round-trips any keys and values', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string(), { maxKeys: 8 }), (props) => {
        const clean = Object.fromEntries(Object.entries(props).filter(([k]) => k !== '__proto__'));
        expect({ ...parseProperties(formatProperties(clean)) }).toEqual(clean);
      }),
      { numRuns: 300 },
    );
  });

  it('formats Java Date.toString in UTC', () => {
    expect(javaDateString(new Date(Date.UTC(1999, 11, 31, 23, 59, 59)))).toBe('Fri Dec 31 23:59:59 UTC 1999');
  });
});
