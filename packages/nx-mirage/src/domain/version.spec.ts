import { describe, expect, it } from 'vitest';
import { compareVersions, normalizeVersion, satisfies } from './version';

describe('versions', () => {
  it('orders numerically, with ~ before release', () => {
    expect(compareVersions('4.9.0', '4.11.1')).toBe(-1);
    expect(compareVersions('v4.11.1', '4.11.1')).toBe(0);
    expect(compareVersions('0.12.1~beta1', '0.12.1')).toBe(-1);
    expect(compareVersions('4.11', '4.11.0')).toBe(-1);
  });

  it('checks guards', () => {
    const guard = [
      { op: '>=', version: '4.9.0' },
      { op: '<', version: '4.12.0' },
    ] as const;
    expect(satisfies('v4.11.1', guard)).toBe(true);
    expect(satisfies('4.12.0', guard)).toBe(false);
    expect(normalizeVersion(' v4.11.1\n')).toBe('4.11.1');
  });
});
