import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '@parley/protocol';

const protocolDoc = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');

describe('error registry', () => {
  it.each(Object.entries(ERRORS))('documents %s with its HTTP status', (code, { status }) => {
    const row = protocolDoc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row, `docs/PROTOCOL.md has no row for ${code}`).toBeDefined();
    expect(row).toContain(`| ${status} |`);
  });
});
