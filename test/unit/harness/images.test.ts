// The test images' Debian mirror is the one apt's own sources name for the suite (issue 19): no other host.
import { describe, expect, it } from 'vitest';
import { mirrorInSources } from '../../runtime/images.js';

const DEB822 = `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`;

describe("the test images' mirror", () => {
  it.each([
    ['a deb822 stanza listing the suite', [DEB822], 'http://mirror.example/debian'],
    ['a one-line entry with options', ['deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main\n'], 'http://one.example/debian'],
    ['the first file that names it', ['deb http://a.example/debian-security bookworm-security main\n', DEB822], 'http://mirror.example/debian'],
  ])('is taken from %s', (_, texts, mirror) => {
    expect(mirrorInSources(texts, 'bookworm')).toBe(mirror);
  });

  it.each([
    ['only other suites', ['deb http://a.example/debian bookworm-updates main\n', DEB822.replace(/bookworm /, 'trixie ')]],
    ['a deb-src stanza', ['Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n']],
    ['a commented entry', ['# deb http://a.example/debian bookworm main\n']],
  ])('is none when the sources have %s', (_, texts) => {
    expect(mirrorInSources(texts, 'bookworm')).toBeUndefined();
  });
});
