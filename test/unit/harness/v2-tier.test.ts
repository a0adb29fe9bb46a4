// The cgroup v2 tier's list of files (test/v2/tier.ts): every e2e file either runs in the guest or is
// left to the host with a reason, so a new e2e file is never missing from the guest in silence.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORE_FILES, GUEST_FILES, HOST_ONLY } from '../../v2/tier.js';

const REPO = join(import.meta.dirname, '../../..');

function e2eFiles(): string[] {
  const files = readdirSync(join(REPO, 'test/e2e'), { recursive: true, encoding: 'utf8' });
  return files.filter((f) => f.endsWith('.test.ts')).map((f) => relative(REPO, join(REPO, 'test/e2e', f))).sort();
}

describe("the v2 tier's files", () => {
  it('names every e2e file once: run in the guest, or left to the host with a reason', () => {
    const guest = GUEST_FILES.filter((f) => f.startsWith('test/e2e/'));
    const hostOnly = Object.keys(HOST_ONLY);
    expect(guest.filter((f) => hostOnly.includes(f))).toEqual([]);
    expect([...guest, ...hostOnly].sort()).toEqual(e2eFiles());
    for (const why of Object.values(HOST_ONLY)) expect(why.length).toBeGreaterThan(10);
  });

  it("takes CI's core from the full tier's files", () => {
    expect(CORE_FILES.filter((f) => !GUEST_FILES.includes(f))).toEqual([]);
  });

  it('names only files and directories that exist', () => {
    expect([...GUEST_FILES, ...Object.keys(HOST_ONLY)].filter((f) => !existsSync(join(REPO, f)))).toEqual([]);
  });
});
