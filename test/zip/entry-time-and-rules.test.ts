import { compareZipPaths } from '../../src/private/zip/collect';
import { dosDateTime, DOS_EPOCH_SECONDS, resolveEntryTime } from '../../src/private/zip/entry-time';
import { ALWAYS_EXCLUDED, PathRules } from '../../src/private/zip/path-rules';

describe('SOURCE_DATE_EPOCH', () => {
  test('unset or empty means 1980-01-01T00:00:00Z', () => {
    expect(resolveEntryTime(undefined)).toBe(DOS_EPOCH_SECONDS);
    expect(resolveEntryTime('')).toBe(DOS_EPOCH_SECONDS);
    expect(new Date(DOS_EPOCH_SECONDS * 1000).toISOString()).toBe('1980-01-01T00:00:00.000Z');
  });

  test('an integer at or after 1980 is used as is', () => {
    expect(resolveEntryTime('315532800')).toBe(315532800);
    expect(resolveEntryTime('1700000000')).toBe(1700000000);
  });

  test.each(['abc', '-5', '1.5', ' 1700000000', '1e9', '0x10'])('%p is refused as not a non-negative integer', raw => {
    expect(() => resolveEntryTime(raw)).toThrow(`SOURCE_DATE_EPOCH=${JSON.stringify(raw)} is not a non-negative integer`);
  });

  test('a value before 1980 is refused, naming the value and the rule', () => {
    expect(() => resolveEntryTime('0')).toThrow(/SOURCE_DATE_EPOCH=0 is before 1980-01-01T00:00:00Z \(315532800\)/);
    expect(() => resolveEntryTime('315532799')).toThrow(/315532799 is before 1980/);
  });

  test('a value past 2107 is refused', () => {
    expect(() => resolveEntryTime('4354819200')).toThrow(/after 2107-12-31/);
  });
});

describe('MS-DOS timestamp', () => {
  test('1980-01-01T00:00:00Z encodes as date 0x21, time 0', () => {
    expect(dosDateTime(DOS_EPOCH_SECONDS)).toEqual({ date: (0 << 9) | (1 << 5) | 1, time: 0 });
  });

  test('fields come from UTC with 2-second resolution', () => {
    // 2023-11-14T22:13:21Z
    const { date, time } = dosDateTime(1700000001);
    expect(date).toBe(((2023 - 1980) << 9) | (11 << 5) | 14);
    expect(time).toBe((22 << 11) | (13 << 5) | (21 >> 1));
  });
});

describe('exclude rules', () => {
  const rules = new PathRules([...ALWAYS_EXCLUDED, '/top-only.txt', 'tests/', 'docs/**/*.md', '*.tmp']);

  test.each([
    ['__pycache__', true],
    ['pkg/__pycache__', true],
    ['pkg/mod.pyc', true], // like .gitignore, patterns without a trailing / match folders too
    ['pkg/module', false],
    ['tests', true],
    ['pkg/tests', true],
  ])('directory %p excluded: %p', (p, expected) => {
    expect(rules.excludes(p, true)).toBe(expected);
  });

  test.each([
    ['mod.pyc', true],
    ['a/b/mod.pyo', true],
    ['requests-2.31.0.dist-info/RECORD', true],
    ['requests-2.31.0.dist-info/direct_url.json', true],
    ['requests-2.31.0.dist-info/METADATA', false],
    ['vendored/x-1.0.dist-info/RECORD', true],
    ['RECORD', false],
    ['top-only.txt', true],
    ['sub/top-only.txt', false],
    ['tests', false], // a file named tests is not the tests/ folder
    ['docs/a/b/c.md', true],
    ['docs/c.md', true],
    ['x/docs/c.md', true],
    ['docs/c.txt', false],
    ['a.tmp', true],
    ['a.tmpx', false],
    ['handler.py', false],
  ])('file %p excluded: %p', (p, expected) => {
    expect(rules.excludes(p, false)).toBe(expected);
  });

  test('an empty pattern is an error naming it', () => {
    expect(() => new PathRules(['  '])).toThrow(/Exclude pattern "  " is empty/);
    expect(() => new PathRules(['!'])).toThrow(/Exclude pattern "!" is empty/);
  });

  test('a ! pattern keeps what an earlier one left out; the last match decides, and says which pattern', () => {
    const r = new PathRules(['*.pem', '.aws/', '!certs/*.pem', '!.aws/', 'certs/old.pem']);
    expect(r.excludes('key.pem', false)).toBe(true);
    expect(r.excludedBy('key.pem', false)).toBe('*.pem');
    expect(r.excludes('certs/ca.pem', false)).toBe(false);
    expect(r.excludedBy('certs/ca.pem', false)).toBeUndefined();
    expect(r.excludes('certs/old.pem', false)).toBe(true); // excluded again by the later pattern
    expect(r.excludedBy('certs/old.pem', false)).toBe('certs/old.pem');
    expect(r.excludes('.aws', true)).toBe(false);
    expect(r.excludes('handler.py', false)).toBe(false);
  });
});

describe('zip path order', () => {
  test('sorts by UTF-8 bytes, not by UTF-16 or locale', () => {
    // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts after U+1F600 (F0 9F 98 80) in UTF-16 code units
    // but before it in UTF-8 bytes; uppercase sorts before lowercase.
    const names = ['b', '\u{1F600}', 'B', 'a/b', 'a', '\uFF5E', 'a-b', 'é'];
    expect([...names].sort(compareZipPaths)).toEqual(['B', 'a', 'a-b', 'a/b', 'b', 'é', '\uFF5E', '\u{1F600}']);
  });

  test('compares as Buffer.compare of the UTF-8 bytes would, for any pair of valid names', () => {
    // Units that meet at the edges: ASCII, Latin-1, the last units below and above the surrogates, and code points above U+FFFF.
    const alphabet = ['a', 'B', '/', '-', '\u00e9', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uff5e', '\uffff', '\u{10000}', '\u{1f600}', '\u{10ffff}'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const name = () => Array.from({ length: 1 + Math.floor(random() * 4) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const sign = (n: number) => Math.sign(n);
    for (let i = 0; i < 20_000; i++) {
      const a = name();
      const b = random() < 0.3 ? a + name() : name();
      expect([a, b, sign(compareZipPaths(a, b))]).toEqual([a, b, sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))]);
    }
  });
});
